/*
 * The entities sheet (ODK entities spec 2024.1.0 / 2025.1.0): each row declares an entity
 * list that the form creates or updates. Survey rows link to it through `save_to`
 * (properties) and `${name}` references in the declaration. The declaration is placed as
 * `meta/entity` in the container its references point to: the survey root when possible,
 * otherwise the deepest group or repeat that holds its `save_to` questions.
 */
import { isXmlTag, parseReferences } from './expression.js';
import { XlsFormError } from './issues.js';
import type { Action } from './model.js';
import type { DraftNode, DraftSection } from './draft.js';
import { metaGroup } from './draft.js';
import type { CellMap } from './sheets.js';
import { subMap, text } from './sheets.js';

export interface EntityAttributeSpec {
  name: string;
  value: string;
  bind?: CellMap;
  actions: Action[];
}

export interface EntityDeclaration {
  dataset: string;
  row: number;
  attributes: EntityAttributeSpec[];
  label?: string;
  references: Set<string>;
}

export type EntityDeclarations = Record<string, EntityDeclaration>;

const COLUMNS = ['dataset', 'entity_id', 'create_if', 'update_if', 'repeat', 'label'];

function entitiesError(row: number, detail: string, code = 'xlsform.bad_entity'): XlsFormError {
  return new XlsFormError(code, `[row : ${row}] On the 'entities' sheet, ${detail}`, { sheet: 'entities', row });
}

function surveySaveToError(row: number, detail: string, code = 'xlsform.bad_save_to'): XlsFormError {
  return new XlsFormError(code, `[row : ${row}] On the 'survey' sheet, the 'save_to' value is invalid. ${detail}`, { sheet: 'survey', row });
}

function readonlyBind(calculate?: string): CellMap {
  const bind: CellMap = new Map();
  if (calculate !== undefined) bind.set('calculate', calculate);
  bind.set('readonly', 'true()');
  bind.set('type', 'string');
  return bind;
}

function declare(row: CellMap, rowNumber: number): EntityDeclaration {
  const extra = [...row.keys()].filter((k) => !COLUMNS.includes(k));
  if (extra.length > 0) {
    throw new XlsFormError(
      'xlsform.bad_entity',
      `[row : 1] On the 'entities' sheet, one or more column names are invalid. The following column(s) are not supported by this version of pyxform: ${extra.map((k) => `'${k}'`).join(', ')}. Please either: check the spelling of the column names, remove the columns, or update pyxform.`,
      { sheet: 'entities', row: 1 },
    );
  }
  const dataset = text(row, 'dataset');
  const entityId = text(row, 'entity_id');
  const createIf = text(row, 'create_if');
  const updateIf = text(row, 'update_if');
  const label = text(row, 'label');
  if (!dataset) throw entitiesError(rowNumber, "the 'list_name' value is invalid. Entity lists must have a name.");
  if (dataset.startsWith('__')) throw entitiesError(rowNumber, "the 'dataset' value is invalid. Names used here must not begin with two underscores.");
  if (dataset.includes('.')) throw entitiesError(rowNumber, "the 'dataset' value is invalid. Names used here must not contain a period.");
  if (!isXmlTag(dataset)) {
    throw entitiesError(
      rowNumber,
      "the 'dataset' value is invalid. Names must begin with a letter or underscore. After the first character, names may contain letters, digits, underscores, hyphens, or periods.",
    );
  }
  const invalid = `the entity declaration is invalid. The entity list name '${dataset}'`;
  if (!entityId && updateIf) {
    throw entitiesError(
      rowNumber,
      `${invalid} does not have an 'entity_id' expression, but an 'entity_id' is required when updating entities. Updating entities is indicated by using 'entity_id' and/or 'update_if' expressions. Please either: add an 'entity_id' for this entity declaration, or to only create entities instead move the 'update_if' to 'create_if'.`,
    );
  }
  if (entityId && createIf && !updateIf) {
    throw entitiesError(
      rowNumber,
      `${invalid} does not have an 'update_if' expression, but an 'update_if' is required when upserting entities. Upserting entities is indicated by using 'create_if' and 'entity_id' expressions. Please either: add an 'update_if' for this entity declaration, or to only create entities instead remove the 'entity_id' expression.`,
    );
  }
  if (!entityId && !label) {
    throw entitiesError(
      rowNumber,
      `${invalid} does not have a label, but a 'label' is required when creating entities. Creating entities is indicated by using a 'create_if' expression, or by not using 'entity_id' expression. Please either: add a 'label' for this entity declaration, or to update entities instead provide an 'entity_id' (and optionally 'update_if') expression.`,
    );
  }
  const references = new Set<string>();
  for (const value of [entityId, createIf, updateIf, label]) {
    if (value !== undefined) for (const ref of parseReferences(value)) references.add(ref.name);
  }

  const attributes: EntityAttributeSpec[] = [{ name: 'dataset', value: dataset, actions: [] }];
  const id: EntityAttributeSpec = { name: 'id', value: '', bind: readonlyBind(), actions: [] };
  if (!entityId || createIf) {
    attributes.push({ name: 'create', value: '1', bind: createIf ? readonlyBind(createIf) : undefined, actions: [] });
    if (!entityId) id.actions.push({ name: 'setvalue', event: 'odk-instance-first-load', value: 'uuid()' });
  }
  if (entityId) {
    attributes.push({ name: 'update', value: '1', bind: updateIf ? readonlyBind(updateIf) : undefined, actions: [] });
    id.bind = new Map([['readonly', 'true()'], ['type', 'string'], ['calculate', entityId]]);
    const item = `instance('${dataset}')/root/item[name=${entityId}]`;
    for (const [name, field] of [['baseVersion', '__version'], ['trunkVersion', '__trunkVersion'], ['branchId', '__branchId']]) {
      attributes.push({ name: name ?? '', value: '', bind: readonlyBind(`${item}/${field}`), actions: [] });
    }
  }
  attributes.push(id);
  const declaration: EntityDeclaration = { dataset, row: rowNumber, attributes, references };
  if (label) declaration.label = label;
  return declaration;
}

export function collectEntities(rows: CellMap[]): EntityDeclarations {
  const declarations: EntityDeclarations = Object.create(null) as EntityDeclarations;
  rows.forEach((row, index) => {
    const rowNumber = index + 2;
    const declaration = declare(row, rowNumber);
    if (declaration.dataset in declarations) {
      throw entitiesError(rowNumber, "the 'list_name' value is invalid. The 'list_name' column must not have any duplicate names.");
    }
    declarations[declaration.dataset] = declaration;
  });
  return declarations;
}

interface PathNode {
  name: string;
  type: string;
}

/** A chain of containers from the survey root, e.g. /survey/household/person. */
class ContainerPath {
  readonly key: string;

  constructor(readonly nodes: readonly PathNode[]) {
    this.key = nodes.map((n) => `${n.type}\u0000${n.name}`).join('\u0001');
  }

  static readonly survey = new ContainerPath([{ name: 'survey', type: 'survey' }]);

  prefix(length: number): ContainerPath {
    return new ContainerPath(this.nodes.slice(0, length));
  }

  /** The path up to the nearest repeat or survey node. */
  scopeBoundary(): ContainerPath {
    for (let i = this.nodes.length - 1; i >= 0; i -= 1) {
      const type = this.nodes[i]?.type;
      if (type === 'repeat' || type === 'survey') return this.prefix(i + 1);
    }
    return ContainerPath.survey;
  }

  /** Repeats between the root and the last node. */
  boundaryCount(): number {
    return this.nodes.slice(1).filter((n) => n.type === 'repeat').length;
  }

  /** Containers between the last node and its scope boundary. */
  subpathCount(): number {
    let count = 0;
    for (let i = this.nodes.length - 1; i >= 0; i -= 1) {
      const type = this.nodes[i]?.type;
      if (type === 'repeat' || type === 'survey') break;
      count += 1;
    }
    return count;
  }

  toString(): string {
    return `/${this.nodes.map((n) => n.name).join('/')}`;
  }
}

interface ReferenceSource {
  path: ContainerPath;
  row: number;
  property?: string;
  question?: string;
}

interface AllocationRequest {
  scope: ContainerPath;
  dataset: string;
  requested: ContainerPath;
  row: number;
  lineages: ContainerPath[];
}

/** Collects save_to and variable references while the survey is read, then places each entity. */
export class EntityTracker {
  private readonly references = new Map<string, ReferenceSource[]>();
  private readonly variableReferences = new Map<string, string[]>();

  constructor(private readonly declarations: EntityDeclarations) {
    for (const declaration of Object.values(declarations)) {
      for (const question of declaration.references) {
        this.variableReferences.set(question, [...(this.variableReferences.get(question) ?? []), declaration.dataset]);
      }
    }
  }

  private sources(dataset: string): ReferenceSource[] {
    let list = this.references.get(dataset);
    if (!list) {
      list = [];
      this.references.set(dataset, list);
    }
    return list;
  }

  noteRow(cells: CellMap, row: number, question: string | null, path: PathNode[], isBegin: boolean, isEnd: boolean): void {
    const container = new ContainerPath(path);
    const bind = subMap(cells, 'bind');
    let saveTo = text(bind, 'entities:saveto');
    const names = Object.keys(this.declarations);
    if (saveTo) {
      if (names.length === 0) {
        throw surveySaveToError(row, 'To save entity properties using the save_to column, add an entities sheet and declare an entity.');
      }
      let dataset: string;
      const delimiters = saveTo.split('#').length - 1;
      if (delimiters === 1) {
        [dataset = '', saveTo = ''] = saveTo.split('#');
        bind?.set('entities:saveto', saveTo);
      } else if (delimiters > 1) {
        throw surveySaveToError(row, "A 'save_to' value must have at most one '#' delimiter character. Please check the spelling of this 'save_to' value.");
      } else {
        if (names.length > 1) {
          throw surveySaveToError(
            row,
            "When there is more than one entity declaration, 'save_to' names must be prefixed with the entity 'list_name' that the property belongs to. Please either: add the entity 'list_name' prefix separated with a '#' e.g. my_list#my_save_to (where 'my_list' is the entity 'list_name', and 'my_save_to' is the 'save_to' property name), or remove all but one entity declarations.",
          );
        }
        dataset = names[0] ?? '';
      }
      if (!(dataset in this.declarations)) {
        throw surveySaveToError(
          row,
          `The entity list name '${dataset}' was not found on the entities sheet. Please either: check the spelling of the list name in the save_to value, or on the entities sheet add a row for this entity list, or check the spelling of existing entity list names.`,
        );
      }
      this.checkSaveTo(saveTo, row, isBegin || isEnd, this.sources(dataset));
      this.sources(dataset).push({ path: container, row, property: saveTo });
    }
    if (question !== null) {
      for (const dataset of this.variableReferences.get(question) ?? []) this.sources(dataset).push({ path: container, row, question });
    }
  }

  private checkSaveTo(saveTo: string, row: number, isContainer: boolean, existing: ReferenceSource[]): void {
    const names = "Names must begin with a letter or underscore. After the first character, names may contain letters, digits, underscores, hyphens, or periods.";
    if (isContainer) throw surveySaveToError(row, "Groups and repeats can't be saved as entity properties. Either remove or move the save_to value in this row.");
    if (saveTo.toLowerCase() === 'name' || saveTo.toLowerCase() === 'label') {
      throw surveySaveToError(row, "Names used here must not be 'name' or 'label' (case-insensitive).");
    }
    if (saveTo.startsWith('__')) throw surveySaveToError(row, 'Names used here must not begin with two underscores.');
    if (!isXmlTag(saveTo)) throw surveySaveToError(row, names);
    const other = existing.find((r) => r.property === saveTo);
    if (other) {
      throw surveySaveToError(
        row,
        `The save_to property '${saveTo}' is already assigned by row '${other.row}'. Either remove or change one of these duplicate save_to property names.`,
      );
    }
  }

  private request(dataset: string, sources: ReferenceSource[]): AllocationRequest {
    const declaration = this.declarations[dataset] as EntityDeclaration;
    let deepestScope: ContainerPath | undefined;
    let deepestScopeCount = 0;
    let deepestScopeRef: ReferenceSource | undefined;
    let container: ReferenceSource | undefined;
    let containerSub = 0;
    let saveTo: ReferenceSource | undefined;
    let saveToSub = 0;
    const lineages = new Map<string, ContainerPath>();
    const boundaries: Array<[ReferenceSource, ContainerPath]> = [];

    for (const ref of sources) {
      const sub = ref.path.subpathCount();
      const boundary = ref.path.scopeBoundary();
      const count = boundary.boundaryCount();
      if (deepestScope === undefined || count > deepestScopeCount) {
        if (boundary.key !== deepestScope?.key) {
          container = ref;
          containerSub = sub;
          if (ref.property !== undefined) {
            saveTo = ref;
            saveToSub = sub;
          }
        }
        deepestScope = boundary;
        deepestScopeCount = count;
        deepestScopeRef = ref;
      }
      boundaries.push([ref, boundary]);
      if (container === undefined || (boundary.key === deepestScope.key && sub > containerSub)) {
        container = ref;
        containerSub = sub;
      }
      if (ref.property !== undefined) {
        lineages.set(ref.path.key, ref.path);
        if (saveTo === undefined || (boundary.key === deepestScope.key && sub > saveToSub)) {
          saveTo = ref;
          saveToSub = sub;
        }
      }
    }
    const scope = deepestScope ?? ContainerPath.survey;
    let requested = (saveTo ?? container)?.path ?? ContainerPath.survey;
    const lineageList = [...lineages.values()];
    if (lineageList.length > 0) {
      const first = lineageList[0] as ContainerPath;
      const minLength = Math.min(...lineageList.map((p) => p.nodes.length));
      let common = first.prefix(minLength);
      if (lineageList.length > 1) {
        for (let i = 0; i < minLength; i += 1) {
          const target = first.nodes[i];
          if (lineageList.some((p) => p.nodes[i]?.name !== target?.name || p.nodes[i]?.type !== target?.type)) common = first.prefix(i);
        }
        const candidate = saveTo?.path.scopeBoundary() ?? ContainerPath.survey;
        const rank = (p: ContainerPath): [number, number] => [p.boundaryCount(), p.subpathCount()];
        const [a1, a2] = rank(candidate);
        const [b1, b2] = rank(common);
        requested = b1 > a1 || (b1 === a1 && b2 > a2) ? common : candidate;
      } else {
        requested = common;
      }
    }
    const requestedScope = requested.scopeBoundary();
    for (const [ref, boundary] of boundaries) {
      if (new ContainerPath(scope.nodes.slice(0, boundary.nodes.length)).key !== boundary.key) {
        if (ref.property !== undefined) {
          throw surveySaveToError(
            ref.row,
            `The entity list name '${dataset}' has a reference in container scope '${deepestScopeRef?.path}' which is not compatible with this 'save_to' reference in scope '${ref.path}'. Please either: check the spelling of the list name in the 'save_to', or copy either value into the desired container scope with a 'calculate' question then use that 'calculate' for the 'save_to'.`,
          );
        }
        throw entitiesError(
          declaration.row,
          `the entity declaration is invalid. The entity list name '${dataset}' has a reference in container scope '${deepestScopeRef?.path}' which is not compatible with the variable reference to '${ref.question}' in scope '${ref.path}'. Please either: check the spelling of the variable references, or copy either value into the desired container scope with a 'calculate' question then use that 'calculate' for the 'save_to'.`,
        );
      }
      if (ref.property !== undefined && requestedScope.key !== boundary.key) {
        throw surveySaveToError(
          ref.row,
          `The entity list name '${dataset}' has a reference in container scope '${requested}' which is not compatible with this 'save_to' reference in scope '${ref.path}'. Please either: check the spelling of the list name in the 'save_to', or copy either value into the desired container scope with a 'calculate' question then use that 'calculate' for the 'save_to'.`,
        );
      }
    }
    return { scope, dataset, requested, row: declaration.row, lineages: lineageList };
  }

  private allocate(): Map<string, { path: ContainerPath; dataset: string }> {
    const byScope = new Map<string, AllocationRequest[]>();
    const add = (req: AllocationRequest): void => {
      byScope.set(req.scope.key, [...(byScope.get(req.scope.key) ?? []), req]);
    };
    for (const [dataset, sources] of this.references) add(this.request(dataset, sources));
    for (const declaration of Object.values(this.declarations)) {
      if (!this.references.has(declaration.dataset)) {
        add({ scope: ContainerPath.survey, dataset: declaration.dataset, requested: ContainerPath.survey, row: declaration.row, lineages: [] });
      }
    }
    const allocations = new Map<string, { path: ContainerPath; dataset: string }>();
    const only = [...byScope.values()];
    if (only.length === 1 && only[0]?.length === 1 && only[0][0]?.scope.key === ContainerPath.survey.key) {
      allocations.set(ContainerPath.survey.key, { path: ContainerPath.survey, dataset: only[0][0].dataset });
      return allocations;
    }
    const reserved = new Map<string, string>();
    for (const requests of byScope.values()) {
      for (const req of [...requests].sort((a, b) => a.row - b.row)) {
        const depthLimit = req.scope.nodes.length - 1;
        let conflict: string | undefined;
        for (let depth = req.requested.nodes.length; depth > depthLimit; depth -= 1) {
          const current = req.requested.prefix(depth);
          conflict = allocations.get(current.key)?.dataset ?? reserved.get(current.key);
          if (conflict !== undefined) {
            const first = req.lineages[0];
            const fromSaveTo = first === undefined ? undefined : reserved.get(first.key);
            if (fromSaveTo) {
              conflict = fromSaveTo;
              break;
            }
            continue;
          }
          allocations.set(current.key, { path: current, dataset: req.dataset });
          reserved.set(current.key, req.dataset);
          for (const lineage of req.lineages) {
            for (let i = lineage.nodes.length; i > current.nodes.length - 1; i -= 1) reserved.set(lineage.prefix(i).key, req.dataset);
          }
          break;
        }
        if (conflict !== undefined) {
          throw entitiesError(
            req.row,
            `the entity declaration is invalid. Each container (survey, group, repeat) may have only one entity declaration, but there are no valid containers available in the scope: '${req.scope}', which has been allocated to the entity on row '${this.declarations[conflict]?.row}'. Please either: check which entities are referred to from the 'survey' sheet in the 'save_to' column, or check which questions are being referred to from the 'entities' sheet with variable references (such as in the 'label').`,
          );
        }
      }
    }
    return allocations;
  }

  /** Adds each declaration as meta/entity in its container; sets the root's entity version. */
  inject(root: DraftSection): void {
    if (Object.keys(this.declarations).length === 0) return;
    const allocations = this.allocate();
    const prefixes = new Set<string>();
    for (const { path } of allocations.values()) for (let i = 1; i <= path.nodes.length; i += 1) prefixes.add(path.prefix(i).key);
    const placed = new Set<string>();
    const visit = (section: DraftSection, path: ContainerPath, inRepeat: boolean): void => {
      const allocation = allocations.get(path.key);
      if (allocation && !placed.has(allocation.dataset)) {
        const declaration = this.declarations[allocation.dataset] as EntityDeclaration;
        const id = declaration.attributes.find((a) => a.name === 'id');
        if (inRepeat && id && id.actions.length === 1) id.actions.push({ name: 'setvalue', event: 'odk-new-repeat', value: id.actions[0]?.value });
        section.children.push(metaGroup([{ kind: 'entity', declaration }]));
        placed.add(allocation.dataset);
      }
      let repeatSeen = inRepeat;
      for (const child of section.children as DraftNode[]) {
        if (child.kind !== 'group' && child.kind !== 'repeat') continue;
        const name = text(child.cells, 'name');
        if (!name) continue;
        const childPath = new ContainerPath([...path.nodes, { name, type: child.kind }]);
        if (child.kind === 'repeat') repeatSeen = true;
        if (prefixes.has(childPath.key)) visit(child, childPath, repeatSeen);
      }
    };
    visit(root, ContainerPath.survey, false);
    const nested = [...allocations.values()].some(({ path }) => path.boundaryCount() > 0);
    root.cells.set('entity_version', Object.keys(this.declarations).length > 1 || nested ? '2025.1.0' : '2024.1.0');
  }
}
