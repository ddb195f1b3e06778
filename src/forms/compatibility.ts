import type { FormField, FormSchema } from '../xform/index.js';

export interface SchemaChange {
  path: string;
  kind: 'type_changed' | 'structure_changed' | 'removed';
  from: string;
  to: string | null;
  /** Whether answers already collected stay valid under the new version. */
  compatible: boolean;
  message: string;
}

/** Type changes that keep every stored answer valid: the new type accepts all the old values. */
const WIDENINGS: ReadonlySet<string> = new Set(['int>decimal', 'select1>select', 'int>string', 'decimal>string', 'select1>string', 'select>string', 'barcode>string', 'date>string', 'time>string', 'dateTime>string']);

/**
 * What a new version changes for data already collected. Added fields are not listed: old
 * submissions simply lack them. A field whose kind changes (question, group, repeat) or whose type
 * narrows makes old answers unreadable under the new schema, so publishing it needs consent.
 */
export function compareSchemas(previous: FormSchema, next: FormSchema): SchemaChange[] {
  const nextByPath = new Map(next.fields.map((f) => [f.path, f]));
  const changes: SchemaChange[] = [];
  for (const before of previous.fields) {
    const after = nextByPath.get(before.path);
    if (!after) {
      changes.push({
        path: before.path,
        kind: 'removed',
        from: describe(before),
        to: null,
        compatible: true,
        message: `${before.path} is no longer in the form; answers already collected stay with their version.`,
      });
    } else if (after.kind !== before.kind) {
      changes.push({
        path: before.path,
        kind: 'structure_changed',
        from: describe(before),
        to: describe(after),
        compatible: false,
        message: `${before.path} changes from a ${before.kind} to a ${after.kind}; answers already collected would no longer fit.`,
      });
    } else if (after.type !== before.type) {
      const compatible = WIDENINGS.has(`${before.type}>${after.type}`);
      changes.push({
        path: before.path,
        kind: 'type_changed',
        from: describe(before),
        to: describe(after),
        compatible,
        message: compatible
          ? `${before.path} changes from ${before.type} to ${after.type}, which accepts every answer already collected.`
          : `${before.path} changes from ${before.type} to ${after.type}; answers already collected may not be valid ${after.type} values.`,
      });
    }
  }
  return changes;
}

function describe(field: FormField): string {
  return field.kind === 'question' ? field.type : field.kind;
}
