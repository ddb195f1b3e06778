/*
 * Submission instance XML → identity + answers as JSON in KoBoToolbox's API v2 `/data/` shape.
 *
 * Kobo's shape (kpi `xform_instance_parser`): the root element is dropped; groups are flattened into
 * `group/sub/q` keys; a repeat becomes an array under its path whose items are objects keyed by full
 * paths (`household/member/name`), nested repeats likewise inside them; empty answers and groups
 * with no answers are left out; values are the answer text as sent (strings). An element is a repeat
 * when the form schema says so or when it occurs more than once under one parent, so without a schema
 * a repeat answered once reads as a group, as in Kobo. Names are local names, so `orx:meta` gives
 * `meta/instanceID`.
 *
 * Identity follows the ODK servers: form id from the root `id`, version from a `version` attribute in
 * any namespace, instanceID from `meta/instanceID` (falling back to an `instanceID` child of the root,
 * then a root attribute, as Central and Kobo do). An encrypted envelope (`encrypted="yes"`) carries no
 * answers, so its `fields` are empty.
 */
import { XFormError } from './errors.js';
import type { FormSchema } from './schema.js';
import { attributeValue, childElements, firstChildElement, parseXmlTree, textContent } from './xml.js';
import type { XmlElement, XmlLimits } from './xml.js';

export type SubmissionValue = string | SubmissionFields[];

export interface SubmissionFields {
  [path: string]: SubmissionValue;
}

export interface ParsedSubmission {
  formId: string;
  version: string | null;
  instanceId: string;
  deprecatedId: string | null;
  instanceName: string | null;
  encrypted: boolean;
  fields: SubmissionFields;
}

/** OpenRosa asks servers to support IDs of at least 249 characters; beyond this we refuse. */
const MAX_ID_LENGTH = 255;

export type SubmissionIdentity = Omit<ParsedSubmission, 'fields'>;

export function parseSubmission(
  xml: Uint8Array | string,
  schema?: FormSchema,
  limits: Partial<XmlLimits> = {},
): ParsedSubmission {
  const root = parseXmlTree(xml, limits);
  const identity = submissionIdentity(root);
  return { ...identity, fields: submissionFields(root, identity, schema) };
}

/** What a parsed instance says about itself: enough to find its form version. */
export function submissionIdentity(root: XmlElement): SubmissionIdentity {
  const formId = attributeValue(root, 'id', '')?.trim() || root.uri;
  if (!formId) {
    throw new XFormError('submission.missing_form_id', `The submission root <${root.name}> has no id attribute naming its form.`);
  }
  const meta = firstChildElement(root, 'meta');
  const instanceId = metaValue(meta, 'instanceID') ?? childValue(root, 'instanceID') ?? attributeValue(root, 'instanceID')?.trim();
  if (!instanceId) {
    throw new XFormError('submission.missing_instance_id', 'The submission has no meta/instanceID; every submission needs a unique instance ID.');
  }
  return {
    formId,
    version: attributeValue(root, 'version') ?? null,
    instanceId: checkId(instanceId, 'instanceID'),
    deprecatedId: optionalId(metaValue(meta, 'deprecatedID'), 'deprecatedID'),
    instanceName: metaValue(meta, 'instanceName') ?? null,
    encrypted: attributeValue(root, 'encrypted') === 'yes',
  };
}

/** The answers of a parsed instance, checked against its form's schema when there is one. */
export function submissionFields(root: XmlElement, identity: SubmissionIdentity, schema?: FormSchema): SubmissionFields {
  if (schema) checkMatchesForm(root, identity.formId, identity.encrypted, schema);
  const fields: SubmissionFields = {};
  if (!identity.encrypted) collectFields(root, '', repeatPaths(schema), fields);
  return fields;
}

function checkMatchesForm(root: XmlElement, formId: string, encrypted: boolean, schema: FormSchema): void {
  if (formId !== schema.formId) {
    throw new XFormError('submission.wrong_form', `The submission is for form "${formId}", not "${schema.formId}".`);
  }
  // Encrypted envelopes always have a <data> root, whatever the form's root is named.
  if (!encrypted && root.local !== schema.rootName) {
    throw new XFormError('submission.wrong_root', `The submission root is <${root.local}>, but form "${schema.formId}" has root <${schema.rootName}>.`);
  }
}

function metaValue(meta: XmlElement | undefined, local: string): string | undefined {
  return meta ? childValue(meta, local) : undefined;
}

function childValue(parent: XmlElement, local: string): string | undefined {
  const child = firstChildElement(parent, local);
  return child ? textContent(child).trim() || undefined : undefined;
}

function optionalId(value: string | undefined, what: string): string | null {
  return value === undefined ? null : checkId(value, what);
}

function checkId(value: string, what: string): string {
  if (value.length > MAX_ID_LENGTH || /[\u0000-\u001f\u007f\s]/.test(value)) {
    throw new XFormError('submission.bad_instance_id', `The ${what} must be at most ${MAX_ID_LENGTH} characters without spaces or control characters.`);
  }
  return value;
}

/** Repeat paths relative to the root (`household/member`), as keys appear in the JSON. */
function repeatPaths(schema: FormSchema | undefined): Set<string> {
  const prefix = schema ? `/${schema.rootName}/` : '';
  return new Set(schema?.fields.filter((field) => field.kind === 'repeat').map((field) => field.path.slice(prefix.length)));
}

function collectFields(element: XmlElement, prefix: string, repeats: Set<string>, out: SubmissionFields): void {
  const children = childElements(element);
  const occurrences = new Map<string, number>();
  for (const child of children) occurrences.set(child.local, (occurrences.get(child.local) ?? 0) + 1);
  for (const child of children) {
    const path = prefix ? `${prefix}/${child.local}` : child.local;
    if (repeats.has(path) || (occurrences.get(child.local) ?? 0) > 1) {
      const item: SubmissionFields = {};
      collectNode(child, path, repeats, item);
      if (Object.keys(item).length > 0) appendRepeatItem(out, path, item);
    } else {
      collectNode(child, path, repeats, out);
    }
  }
}

function collectNode(element: XmlElement, path: string, repeats: Set<string>, out: SubmissionFields): void {
  if (childElements(element).length > 0) {
    collectFields(element, path, repeats, out);
    return;
  }
  const text = textContent(element);
  if (text.trim() !== '') out[path] = text;
}

function appendRepeatItem(out: SubmissionFields, path: string, item: SubmissionFields): void {
  const existing = out[path];
  if (Array.isArray(existing)) existing.push(item);
  else out[path] = [item];
}
