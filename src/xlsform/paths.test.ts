import { describe, expect, it } from 'vitest';
import { find, findAll, formTree } from './convert.test-support.js';

const survey = (...rows: string[][]): Record<string, string[][]> => ({ survey: [['type', 'name', 'label', 'calculation', 'relevant'], ...rows] });

describe('${name} expansion', () => {
  it('pads absolute paths with one space each side', () => {
    const tree = formTree(survey(['integer', 'age', 'Age'], ['text', 'name', 'Name', '', '${age} > 1']));
    expect(find(tree, 'bind', ['nodeset', '/data/name']).attributes['relevant']).toBe(' /data/age  > 1');
  });

  it('uses a relative path between fields of the same repeat', () => {
    const tree = formTree(
      survey(['begin_repeat', 'person', 'Person'], ['integer', 'age', 'Age'], ['text', 'name', 'Name', '', '${age} > 1'], ['end_repeat', '', '']),
    );
    expect(find(tree, 'bind', ['nodeset', '/data/person/name']).attributes['relevant']).toBe(' ../age  > 1');
  });

  it('climbs out of groups nested in a repeat but stays relative', () => {
    const tree = formTree(
      survey(
        ['begin_repeat', 'r', 'R'],
        ['integer', 'a', 'A'],
        ['begin_group', 'g', 'G'],
        ['text', 'b', 'B', '', '${a} = 1'],
        ['end_group', '', ''],
        ['end_repeat', '', ''],
      ),
    );
    expect(find(tree, 'bind', ['nodeset', '/data/r/g/b']).attributes['relevant']).toBe(' ../../a  = 1');
  });

  it('keeps absolute paths to fields outside the repeat', () => {
    const tree = formTree(
      survey(['integer', 'n', 'N'], ['begin_repeat', 'r', 'R'], ['text', 'b', 'B', '', '${n} > 0'], ['end_repeat', '', '']),
    );
    expect(find(tree, 'bind', ['nodeset', '/data/r/b']).attributes['relevant']).toBe(' /data/n  > 0');
  });

  it('uses the shared outer repeat for nested repeats', () => {
    const tree = formTree(
      survey(
        ['begin_repeat', 'household', 'H'],
        ['integer', 'size', 'Size'],
        ['begin_repeat', 'member', 'M'],
        ['text', 'm', 'M', '', '${size} > 1'],
        ['end_repeat', '', ''],
        ['end_repeat', '', ''],
      ),
    );
    expect(find(tree, 'bind', ['nodeset', '/data/household/member/m']).attributes['relevant']).toBe(' ../../size  > 1');
  });

  it('keeps indexed-repeat node and repeat arguments absolute', () => {
    const tree = formTree(
      survey(
        ['begin_repeat', 'r', 'R'],
        ['integer', 'a', 'A'],
        ['calculate', 'c', '', 'indexed-repeat(${a}, ${r}, 1)'],
        ['end_repeat', '', ''],
      ),
    );
    expect(find(tree, 'bind', ['nodeset', '/data/r/c']).attributes['calculate']).toBe('indexed-repeat( /data/r/a ,  /data/r , 1)');
  });

  it('points ${last-saved#name} into the last-saved instance and declares it', () => {
    const tree = formTree({ survey: [['type', 'name', 'label', 'default'], ['text', 'a', 'A', '${last-saved#a}']] });
    expect(find(tree, 'setvalue').attributes['value']).toBe(" instance('__last-saved')/data/a ");
    expect(find(tree, 'instance', ['id', '__last-saved']).attributes['src']).toBe('jr://instance/last-saved');
  });

  it('prefixes relative paths in a choice filter with current()/', () => {
    const tree = formTree({
      survey: [
        ['type', 'name', 'label', 'choice_filter'],
        ['begin_repeat', 'r', 'R', ''],
        ['select_one states', 'state', 'State', ''],
        ['select_one cities', 'city', 'City', 'state=${state}'],
        ['end_repeat', '', '', ''],
      ],
      choices: [
        ['list_name', 'name', 'label', 'state'],
        ['states', 'tx', 'Texas', ''],
        ['cities', 'austin', 'Austin', 'tx'],
      ],
    });
    expect(find(tree, 'itemset', ['nodeset', "instance('cities')/root/item[state= current()/../state ]"])).toBeDefined();
  });

  it('turns references in labels into output elements', () => {
    const tree = formTree(survey(['text', 'name', 'Name'], ['note', 'hello', 'Hello ${name} & bye']));
    const label = find(find(tree, 'input', ['ref', '/data/hello']), 'label');
    expect(label.children).toEqual(['Hello', { name: 'output', attributes: { value: ' /data/name ' }, children: [] }, '& bye']);
  });

  it('reports a reference to a name that does not exist, with sheet, row and column', () => {
    const tree = (): unknown => formTree(survey(['text', 'a', 'A', '', '${missing} = 1']));
    expect(tree).toThrow(
      "[row : 2] On the 'survey' sheet, the 'relevant' value is invalid. Reference variables must contain a name from the 'survey' sheet. Could not find the name 'missing'.",
    );
  });

  it('sets a dynamic default on first load and, inside a repeat, on each new repeat', () => {
    const tree = formTree({
      survey: [['type', 'name', 'label', 'default'], ['begin_repeat', 'r', 'R', ''], ['date', 'd', 'D', 'today()'], ['end_repeat', '', '', '']],
    });
    const setvalues = findAll(tree, 'setvalue');
    expect(setvalues.map((s) => s.attributes['event'])).toEqual(['odk-instance-first-load', 'odk-new-repeat']);
    expect(find(tree, 'repeat').children.at(-1)).toMatchObject({ name: 'setvalue', attributes: { event: 'odk-new-repeat', ref: '/data/r/d' } });
  });
});
