import { describe, expect, it } from 'vitest';
import type { SubmissionFields } from '../xform/index.js';
import { diffAnswers, flatten, questionsByFile } from './data-presenters.js';

describe('comparing versions', () => {
  const before: SubmissionFields = { a: '1', photo: 'x.jpg', member: [{ 'member/name': 'Kim', 'member/pic': 'k.jpg' }, { 'member/name': 'Lee' }] };
  const after: SubmissionFields = { a: '2', member: [{ 'member/name': 'Kim', 'member/pic': 'k.jpg' }, { 'member/name': 'Leo' }, { 'member/name': 'Max' }], b: 'new' };

  it('numbers repeat items so answers line up', () => {
    expect(flatten(before)).toEqual([
      ['a', '1'],
      ['photo', 'x.jpg'],
      ['member[1]/member/name', 'Kim'],
      ['member[1]/member/pic', 'k.jpg'],
      ['member[2]/member/name', 'Lee'],
    ]);
  });

  it('lists changed, added and removed answers', () => {
    expect(diffAnswers(before, after)).toEqual([
      { path: 'a', before: '1', after: '2' },
      { path: 'member[2]/member/name', before: 'Lee', after: 'Leo' },
      { path: 'member[3]/member/name', before: null, after: 'Max' },
      { path: 'b', before: null, after: 'new' },
      { path: 'photo', before: 'x.jpg', after: null },
    ]);
    expect(diffAnswers(before, before)).toEqual([]);
  });

  it('finds the question that names each file, repeats included', () => {
    expect(questionsByFile(before)).toEqual(new Map([['1', 'a'], ['x.jpg', 'photo'], ['Kim', 'member/name'], ['k.jpg', 'member/pic'], ['Lee', 'member/name']]));
  });
});
