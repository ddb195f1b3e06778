/*
 * The draft tree: survey rows after reading and checking, before building the form model.
 * A draft row is pyxform's row dictionary plus what is not text (actions, parameters,
 * triggers); sections hold their children in sheet order.
 */
import type { EntityDeclaration } from './entities.js';
import type { Action } from './model.js';
import type { CellMap } from './sheets.js';

export interface DraftRow {
  kind: 'row';
  cells: CellMap;
  row: number;
  parameters: Map<string, string>;
  actions: Action[];
  trigger?: string[];
  dynamicDefault: boolean;
  /** osm questions: the list on the osm sheet naming their tags. */
  osmList?: string;
}

export interface DraftSection {
  kind: 'survey' | 'group' | 'repeat' | 'loop';
  cells: CellMap;
  children: DraftNode[];
  row?: number;
  /** Loops: one copy of the children per choice of this list. */
  loopColumns?: CellMap[];
  bodyless?: boolean;
  flat?: boolean;
}

export interface DraftEntity {
  kind: 'entity';
  declaration: EntityDeclaration;
}

export type DraftNode = DraftSection | DraftRow | DraftEntity;

export function draftRow(cells: CellMap, row: number): DraftRow {
  return { kind: 'row', cells, row, parameters: new Map(), actions: [], dynamicDefault: false };
}

export function metaGroup(children: DraftNode[]): DraftSection {
  return { kind: 'group', cells: new Map([['name', 'meta']]), children, bodyless: true };
}
