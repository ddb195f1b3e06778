/*
 * Constructs the corpus exercises little or not at all, checked against what pyxform
 * 4.5.0 produces for them (its own test suite's expectations).
 */
import { describe, expect, it } from 'vitest';
import { childElements, find, findAll, formTree } from './convert.test-support.js';

describe('question types and parameters', () => {
  it('range: start/end/step on the body element; decimals make the bind decimal', () => {
    const tree = formTree({ survey: [['type', 'name', 'label', 'parameters'], ['range', 'r', 'R', 'start=0.5 end=2 step=0.5']] });
    expect(find(tree, 'range').attributes).toMatchObject({ ref: '/data/r', start: '0.5', end: '2', step: '0.5' });
    expect(find(tree, 'bind', ['nodeset', '/data/r']).attributes['type']).toBe('decimal');
  });

  it('rank with randomize and a seed reference', () => {
    const tree = formTree({
      survey: [['type', 'name', 'label', 'parameters'], ['integer', 's', 'S', ''], ['rank fruits', 'r', 'R', 'randomize=true seed=${s}']],
      choices: [['list_name', 'name', 'label'], ['fruits', 'a', 'Apple']],
    });
    expect(find(tree, 'odk:rank').attributes['ref']).toBe('/data/r');
    expect(find(tree, 'itemset').attributes['nodeset']).toBe("randomize(instance('fruits')/root/item, /data/s)");
    expect(find(tree, 'bind', ['nodeset', '/data/r']).attributes['type']).toBe('odk:rank');
  });

  it('select_one_from_file declares the file instance and reads name/label', () => {
    const tree = formTree({ survey: [['type', 'name', 'label'], ['select_one_from_file cities.csv', 'c', 'City']] });
    expect(find(tree, 'instance', ['id', 'cities']).attributes['src']).toBe('jr://file-csv/cities.csv');
    expect(find(tree, 'itemset').attributes['nodeset']).toBe("instance('cities')/root/item");
    expect(childElements(find(tree, 'itemset')).map((e) => e.attributes['ref'])).toEqual(['name', 'label']);
  });

  it('audit goes into meta with its parameters on the bind', () => {
    const tree = formTree({ survey: [['type', 'name', 'label', 'parameters'], ['audit', '', '', 'track-changes=true'], ['text', 'a', 'A', '']] });
    expect(find(tree, 'bind', ['nodeset', '/data/meta/audit']).attributes).toMatchObject({ type: 'binary', 'odk:track-changes': 'true' });
    expect(childElements(find(tree, 'meta')).map((e) => e.name)).toEqual(['audit', 'instanceID']);
  });

  it('background-audio records from instance load', () => {
    const tree = formTree({ survey: [['type', 'name', 'label', 'parameters'], ['background-audio', 'rec', '', 'quality=low']] });
    expect(find(tree, 'odk:recordaudio').attributes).toEqual({ ref: '/data/rec', event: 'odk-instance-load', 'odk:quality': 'low' });
  });

  it('a trigger re-runs the calculation when the triggering question changes', () => {
    const tree = formTree({ survey: [['type', 'name', 'label', 'calculation', 'trigger'], ['text', 'a', 'A', '', ''], ['dateTime', 'b', '', 'now()', '${a}']] });
    expect(find(find(tree, 'input', ['ref', '/data/a']), 'setvalue').attributes).toEqual({ ref: '/data/b', event: 'xforms-value-changed', value: 'now()' });
    expect(find(tree, 'bind', ['nodeset', '/data/b']).attributes['calculate']).toBeUndefined();
  });

  it('or_other adds an "other" choice and a text question shown when it is chosen', () => {
    const tree = formTree({
      survey: [['type', 'name', 'label'], ['select_one colours or_other', 'c', 'Colour']],
      choices: [['list_name', 'name', 'label'], ['colours', 'red', 'Red']],
    });
    expect(findAll(find(tree, 'instance', ['id', 'colours']), 'name').map((n) => n.children[0])).toEqual(['red', 'other']);
    expect(find(tree, 'bind', ['nodeset', '/data/c_other']).attributes['relevant']).toBe("selected(../c, 'other')");
  });

  it('a search() appearance lists items inline instead of using an itemset', () => {
    const tree = formTree({
      survey: [['type', 'name', 'label', 'appearance'], ['select_one fruits', 'f', 'Fruit', "search('fruits')"]],
      choices: [['list_name', 'name', 'label'], ['fruits', 'a', 'Apple']],
    });
    expect(findAll(tree, 'itemset')).toEqual([]);
    expect(findAll(tree, 'instance').map((i) => i.attributes['id'])).toEqual([undefined]);
    expect(childElements(find(tree, 'item')).map((e) => [e.name, e.children[0]])).toEqual([
      ['label', 'Apple'],
      ['value', 'a'],
    ]);
  });
});

describe('repeats', () => {
  it('writes a template copy, then the first copy, and an expression count as its own node', () => {
    const tree = formTree({ survey: [['type', 'name', 'label', 'repeat_count'], ['integer', 'n', 'N', ''], ['begin_repeat', 'r', 'R', '${n} + 1'], ['text', 'a', 'A', ''], ['end_repeat', '', '', '']] });
    const data = find(tree, 'data');
    expect(childElements(data).map((e) => [e.name, e.attributes['jr:template']])).toEqual([
      ['n', undefined],
      ['r_count', undefined],
      ['r', ''],
      ['r', undefined],
      ['meta', undefined],
    ]);
    expect(find(tree, 'bind', ['nodeset', '/data/r_count']).attributes).toMatchObject({ calculate: ' /data/n  + 1', readonly: 'true()' });
    expect(find(tree, 'repeat').attributes).toEqual({ nodeset: '/data/r', 'jr:count': ' /data/r_count ' });
  });
});

describe('entities', () => {
  it('declares an entity created by the form, with its label and save_to properties', () => {
    const tree = formTree({
      survey: [['type', 'name', 'label', 'save_to'], ['text', 'tree', 'Tree', 'species']],
      entities: [['list_name', 'label'], ['trees', '${tree}']],
    });
    expect(find(tree, 'model').attributes['entities:entities-version']).toBe('2024.1.0');
    expect(find(tree, 'entity').attributes).toEqual({ dataset: 'trees', create: '1', id: '' });
    expect(find(tree, 'bind', ['nodeset', '/data/tree']).attributes['entities:saveto']).toBe('species');
    expect(find(tree, 'bind', ['nodeset', '/data/meta/entity/label']).attributes['calculate']).toBe(' /data/tree ');
    expect(find(tree, 'setvalue').attributes).toEqual({ ref: '/data/meta/entity/@id', event: 'odk-instance-first-load', value: 'uuid()' });
  });

  it('places an entity saved from a repeat inside that repeat (spec 2025.1.0)', () => {
    const tree = formTree({
      survey: [['type', 'name', 'label', 'save_to'], ['begin_repeat', 'r', 'R', ''], ['text', 'tree', 'Tree', 'species'], ['end_repeat', '', '', '']],
      entities: [['list_name', 'label'], ['trees', '${tree}']],
    });
    expect(find(tree, 'model').attributes['entities:entities-version']).toBe('2025.1.0');
    expect(findAll(tree, 'setvalue').map((s) => [s.attributes['ref'], s.attributes['event']])).toEqual([
      ['/data/r/meta/entity/@id', 'odk-instance-first-load'],
      ['/data/r/meta/entity/@id', 'odk-new-repeat'],
    ]);
    expect(find(tree, 'bind', ['nodeset', '/data/r/meta/entity/label']).attributes['calculate']).toBe(' ../../../tree ');
  });
});
