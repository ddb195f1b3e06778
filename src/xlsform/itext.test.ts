import { describe, expect, it } from 'vitest';
import { childElements, find, formTree } from './convert.test-support.js';
import type { TreeElement } from './xml-tree.test-support.js';

function translations(tree: TreeElement): Array<{ lang: string; ids: string[] }> {
  return childElements(find(tree, 'itext')).map((t) => ({ lang: t.attributes['lang'] ?? '', ids: childElements(t).map((x) => x.attributes['id'] ?? '') }));
}

function values(tree: TreeElement, lang: string, id: string): TreeElement[] {
  const translation = childElements(find(tree, 'itext')).find((t) => t.attributes['lang'] === lang);
  const text = childElements(translation as TreeElement).find((t) => t.attributes['id'] === id);
  return childElements(text as TreeElement);
}

describe('itext', () => {
  const bilingual = {
    survey: [
      ['type', 'name', 'label::English (en)', 'label::French (fr)', 'hint::English (en)'],
      ['select_one yn', 'q', 'Question', 'Question FR', 'A hint'],
      ['text', 't', 'Text', 'Texte', ''],
    ],
    choices: [
      ['list_name', 'name', 'label::English (en)', 'label::French (fr)'],
      ['yn', 'yes', 'Yes', 'Oui'],
      ['yn', 'no', 'No', 'Non'],
    ],
    settings: [['default_language'], ['English (en)']],
  };

  it('lists choices first, then each element label and hint, in sheet order', () => {
    expect(translations(formTree(bilingual))).toEqual([
      { lang: 'English (en)', ids: ['yn-0', 'yn-1', '/data/q:label', '/data/q:hint', '/data/t:label'] },
      { lang: 'French (fr)', ids: ['yn-0', 'yn-1', '/data/q:label', '/data/t:label', '/data/q:hint'] },
    ]);
  });

  it('marks the default language and fills texts missing in a language with "-"', () => {
    const tree = formTree(bilingual);
    expect(find(tree, 'translation', ['lang', 'English (en)']).attributes['default']).toBe('true()');
    expect(find(tree, 'translation', ['lang', 'French (fr)']).attributes['default']).toBeUndefined();
    expect(values(tree, 'French (fr)', '/data/q:hint')[0]?.children).toEqual(['-']);
  });

  it('points items of translated lists at itext ids', () => {
    const tree = formTree(bilingual);
    const item = childElements(find(find(tree, 'instance', ['id', 'yn']), 'root'))[0] as TreeElement;
    expect(childElements(item).map((c) => [c.name, c.children[0]])).toEqual([
      ['itextId', 'yn-0'],
      ['name', 'yes'],
    ]);
    expect(find(find(tree, 'itemset'), 'label').attributes['ref']).toBe('jr:itext(itextId)');
  });

  it('writes media as jr:// values; an untranslated image goes to the default language', () => {
    const tree = formTree({ survey: [['type', 'name', 'label', 'image', 'audio'], ['note', 'n', 'Look', 'a.png', 'b.mp3']] });
    expect(values(tree, 'default', '/data/n:label').map((v) => [v.attributes['form'], v.children[0]])).toEqual([
      [undefined, 'Look'],
      ['image', 'jr://images/a.png'],
      ['audio', 'jr://audio/b.mp3'],
    ]);
    expect(find(find(tree, 'input'), 'label').attributes['ref']).toBe("jr:itext('/data/n:label')");
  });

  it('sends a hint with a guidance hint through itext with a guidance form', () => {
    const tree = formTree({ survey: [['type', 'name', 'label', 'hint', 'guidance_hint'], ['text', 'a', 'A', 'Short', 'Longer guidance']] });
    expect(values(tree, 'default', '/data/a:hint').map((v) => [v.attributes['form'], v.children[0]])).toEqual([
      [undefined, 'Short'],
      ['guidance', 'Longer guidance'],
    ]);
  });

  it('puts a constraint message with a reference into itext', () => {
    const tree = formTree({ survey: [['type', 'name', 'label', 'constraint', 'constraint_message'], ['integer', 'a', 'A', '. > 0', 'Not ${a}']] });
    expect(find(tree, 'bind', ['nodeset', '/data/a']).attributes['jr:constraintMsg']).toBe("jr:itext('/data/a:jr:constraintMsg')");
    expect(values(tree, 'default', '/data/a:jr:constraintMsg')[0]?.children).toEqual(['Not', { name: 'output', attributes: { value: ' /data/a ' }, children: [] }]);
  });
});
