import { describe, expect, it } from 'vitest';
import type { Actor } from './actor.js';
import { can, currentRoles, decide, submissionRowFilter, type ProjectAccess } from './policy.js';
import { rowPassesFilter, type RowFilter } from './row-filter.js';

const person = (isAdmin = false): Actor => ({ kind: 'user', userId: 5, username: 'p', isAdmin, credential: 'session', scope: 'write' });
const access = (partial: Partial<ProjectAccess> = {}): ProjectAccess => ({ projectId: 9, role: null, rowFilter: null, emergencyGrants: [], onlyForm: null, ...partial });
const noon = new Date('2026-06-01T12:00:00.000Z');

describe('the policy', () => {
  it('asks an anonymous caller to sign in', () => {
    expect(decide({ kind: 'anonymous' }, 'project.read', access(), noon)).toEqual({ allowed: false, refusal: 'auth.required' });
  });

  it('tells a person without a role that the project does not exist', () => {
    expect(decide(person(), 'project.read', access(), noon)).toEqual({ allowed: false, refusal: 'project.not_found' });
  });

  it('refuses an administrator without a role with its own reason, for every verb', () => {
    for (const verb of ['project.read', 'submission.read', 'export.create', 'audit.read'] as const) {
      expect(decide(person(true), verb, access(), noon)).toEqual({ allowed: false, refusal: 'access.admin_without_grant' });
    }
  });

  it('treats an administrator with a role like anyone with that role', () => {
    expect(can(person(true), 'submission.read', { project: access({ role: 'viewer' }) }, noon)).toBe(true);
    expect(decide(person(true), 'submission.update', access({ role: 'viewer' }), noon)).toEqual({ allowed: false, refusal: 'access.denied' });
  });

  it('lets a device token submit to its own project only', () => {
    const device: Actor = { kind: 'device', deviceId: 3, projectId: 9, label: 'tablet 3' };
    expect(can(device, 'submission.create', { project: access() }, noon)).toBe(true);
    expect(can(device, 'submission.read', { project: access() }, noon)).toBe(false);
    expect(can(device, 'submission.create', { project: access({ projectId: 10 }) }, noon)).toBe(false);
  });

  it('lets a public link read and submit to its own form only, and only when the access is narrowed to it', () => {
    const link: Actor = { kind: 'public_link', linkId: 4, projectId: 9, xmlFormId: 'rain', once: false, label: 'poster' };
    const narrowed = access({ onlyForm: 'rain' });
    expect(can(link, 'form.read', { project: narrowed }, noon)).toBe(true);
    expect(can(link, 'submission.create', { project: narrowed }, noon)).toBe(true);
    for (const verb of ['project.read', 'submission.read', 'submission.update', 'form.update', 'export.create'] as const) {
      expect(decide(link, verb, narrowed, noon), verb).toEqual({ allowed: false, refusal: 'access.denied' });
    }
    expect(can(link, 'form.read', { project: access() }, noon)).toBe(false);
    expect(can(link, 'form.read', { project: access({ onlyForm: 'other' }) }, noon)).toBe(false);
    expect(can(link, 'form.read', { project: access({ projectId: 10, onlyForm: 'rain' }) }, noon)).toBe(false);
  });

  it('honours an emergency grant until it expires, and not a moment after', () => {
    const grant = { id: 1, role: 'viewer' as const, reason: 'audit', expiresAt: '2026-06-01T14:00:00.000Z' };
    const granted = access({ emergencyGrants: [grant] });
    expect(can(person(true), 'submission.read', { project: granted }, noon)).toBe(true);
    expect(can(person(true), 'submission.update', { project: granted }, noon)).toBe(false);
    expect(currentRoles(granted, new Date('2026-06-01T13:59:59.999Z'))).toEqual(['viewer']);
    expect(decide(person(true), 'submission.read', granted, new Date('2026-06-01T14:00:00.000Z'))).toEqual({ allowed: false, refusal: 'access.admin_without_grant' });
  });

  it('adds an emergency role to a standing one', () => {
    const both = access({ role: 'collector', emergencyGrants: [{ id: 1, role: 'viewer', reason: 'x', expiresAt: '2027-01-01T00:00:00.000Z' }] });
    expect(currentRoles(both, noon)).toEqual(['collector', 'viewer']);
    expect(can(person(), 'submission.read', { project: both }, noon)).toBe(true);
  });

  it('applies a member’s row filter, lifted while an emergency role lasts', () => {
    const filter: RowFilter = { submittedByMe: true };
    expect(submissionRowFilter(person(), access({ role: 'viewer', rowFilter: filter }), noon)).toEqual(filter);
    const withGrant = access({ role: 'viewer', rowFilter: filter, emergencyGrants: [{ id: 1, role: 'viewer', reason: 'x', expiresAt: '2026-06-01T13:00:00.000Z' }] });
    expect(submissionRowFilter(person(), withGrant, noon)).toBeNull();
    expect(submissionRowFilter(person(), withGrant, new Date('2026-06-01T13:00:00.000Z'))).toEqual(filter);
  });
});

describe('row filters on one record', () => {
  const row = { submittedBy: 5, fields: { region: 'north', count: 3 } };

  it('passes everything without a filter', () => {
    expect(rowPassesFilter(null, 5, row)).toBe(true);
  });

  it('keeps only the person’s own submissions', () => {
    expect(rowPassesFilter({ submittedByMe: true }, 5, row)).toBe(true);
    expect(rowPassesFilter({ submittedByMe: true }, 6, row)).toBe(false);
    expect(rowPassesFilter({ submittedByMe: true }, null, row)).toBe(false);
  });

  it('keeps only rows whose field holds one of the values, compared as text', () => {
    expect(rowPassesFilter({ fieldIn: { field: 'region', values: ['north', 'east'] } }, 5, row)).toBe(true);
    expect(rowPassesFilter({ fieldIn: { field: 'region', values: ['south'] } }, 5, row)).toBe(false);
    expect(rowPassesFilter({ fieldIn: { field: 'count', values: ['3'] } }, 5, row)).toBe(true);
    expect(rowPassesFilter({ fieldIn: { field: 'missing', values: [''] } }, 5, row)).toBe(false);
  });

  it('needs both parts when both are given', () => {
    const both: RowFilter = { submittedByMe: true, fieldIn: { field: 'region', values: ['north'] } };
    expect(rowPassesFilter(both, 5, row)).toBe(true);
    expect(rowPassesFilter(both, 6, row)).toBe(false);
    expect(rowPassesFilter(both, 5, { ...row, fields: { region: 'south' } })).toBe(false);
  });
});
