/**
 * Sharing a project: people with their roles and row filters, and devices with their Collect QR
 * codes (shown when a device is made, and again at any time while it is active).
 */
import { defineComponent, h, nextTick, ref, watchEffect } from 'vue';
import { useRoute } from 'vue-router';
import { del, get, patch, post } from '../api.js';
import { crumbs, projectTabs } from '../components/nav.js';
import { attempt, badge, checkbox, errorNotice, selectField, svgImage, textField } from '../components/ui.js';
import { formatDateTime, t } from '../i18n.js';
import { hasRole, projectPath, useProject } from '../project.js';
import type { Device, DeviceSettings, Member, Role, RowFilter } from '../types.js';

const grantable: Role[] = ['manager', 'editor', 'viewer', 'reviewer', 'collector'];

export default defineComponent(() => {
  const route = useRoute();
  const { project, error, projectId } = useProject();
  const members = ref<Member[]>([]);
  const devices = ref<Device[]>([]);
  /** The device whose QR code is on screen: just made, or shown again. */
  const shownDevice = ref<DeviceSettings | null>(null);
  const username = ref('');
  const role = ref<string>('viewer');
  const onlyMine = ref(false);
  const filterField = ref('');
  const filterValues = ref('');
  const deviceLabel = ref('');
  const actionError = ref<unknown>(null);

  const canShare = () => hasRole(project.value, ['owner', 'manager']);

  async function load() {
    if (!canShare()) return;
    await attempt(actionError, async () => {
      members.value = (await get<{ members: Member[] }>(`${projectPath(projectId())}/members`)).members;
      devices.value = await get<Device[]>(`${projectPath(projectId())}/devices`);
    });
  }
  watchEffect(() => {
    if (project.value !== null) void load();
  });

  function rowFilter(): RowFilter | undefined {
    const values = filterValues.value.split(',').map((v) => v.trim()).filter(Boolean);
    const filter: RowFilter = {};
    if (onlyMine.value) filter.submittedByMe = true;
    if (filterField.value.trim() !== '' && values.length > 0) filter.fieldIn = { field: filterField.value.trim(), values };
    return Object.keys(filter).length > 0 ? filter : undefined;
  }

  async function addMember(event: Event) {
    event.preventDefault();
    const filter = rowFilter();
    if (await attempt(actionError, () => post(`${projectPath(projectId())}/members`, { username: username.value.trim(), role: role.value, ...(filter ? { rowFilter: filter } : {}) }))) {
      username.value = '';
      filterField.value = '';
      filterValues.value = '';
      onlyMine.value = false;
      await load();
    }
  }

  async function changeRole(member: Member, next: string) {
    if (await attempt(actionError, () => patch(`${projectPath(projectId())}/members/${member.userId}`, { role: next }))) await load();
  }

  async function removeMember(member: Member) {
    if (!window.confirm(`${t('common.remove')} ${member.username}?`)) return;
    if (await attempt(actionError, () => del(`${projectPath(projectId())}/members/${member.userId}`))) await load();
  }

  async function addDevice(event: Event) {
    event.preventDefault();
    await attempt(actionError, async () => {
      shownDevice.value = await post<DeviceSettings>(`${projectPath(projectId())}/devices`, { label: deviceLabel.value });
      deviceLabel.value = '';
    });
    await load();
  }

  async function showDevice(device: Device) {
    await attempt(actionError, async () => {
      shownDevice.value = await get<DeviceSettings>(`${projectPath(projectId())}/devices/${device.id}/settings`);
      await nextTick();
      document.getElementById('device-qr')?.focus();
    });
  }

  async function hideDevice() {
    const id = shownDevice.value?.device.id;
    shownDevice.value = null;
    await nextTick();
    document.getElementById(`show-device-${id}`)?.focus();
  }

  async function revokeDevice(device: Device) {
    if (shownDevice.value?.device.id === device.id) shownDevice.value = null;
    if (await attempt(actionError, () => del(`${projectPath(projectId())}/devices/${device.id}`))) await load();
  }

  function describeFilter(filter: RowFilter | null): string {
    if (filter === null) return t('sharing.rowFilterAll');
    const parts: string[] = [];
    if (filter.submittedByMe) parts.push(t('sharing.mine'));
    if (filter.fieldIn) parts.push(t('sharing.fieldIn', { field: filter.fieldIn.field, values: filter.fieldIn.values.join(', ') }));
    return parts.join('; ');
  }

  return () => (
    <section class="page">
      {crumbs([['/', t('nav.projects')], [`/p/${projectId()}`, project.value?.name ?? '…']])}
      <h1>{project.value?.name ?? ''}</h1>
      {projectTabs(projectId(), route.path)}
      {errorNotice(error.value ?? actionError.value)}
      <section class="card" aria-labelledby="members-title">
        <h2 id="members-title">{t('sharing.members')}</h2>
        <div class="table-scroll">
          <table>
            <thead><tr><th scope="col">{t('sharing.username')}</th><th scope="col">{t('sharing.role')}</th><th scope="col">{t('sharing.rowFilter')}</th><th scope="col">{t('sharing.since')}</th><th scope="col"><span class="visually-hidden">{t('common.actions')}</span></th></tr></thead>
            <tbody>
              {members.value.map((member) => (
                <tr>
                  <td>{member.username}</td>
                  <td>
                    {member.role === 'owner' ? t('role.owner') : (
                      <select aria-label={`${t('sharing.role')}: ${member.username}`} value={member.role} onChange={(e: Event) => changeRole(member, (e.target as HTMLSelectElement).value)}>
                        {grantable.map((r) => <option value={r} selected={r === member.role}>{t(`role.${r}`)}</option>)}
                      </select>
                    )}
                  </td>
                  <td>{describeFilter(member.rowFilter)}</td>
                  <td>{formatDateTime(member.since)}</td>
                  <td>{member.role === 'owner' ? null : <button type="button" class="small secondary" onClick={() => removeMember(member)}>{t('common.remove')}</button>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <h3 id="add-member-title">{t('sharing.add')}</h3>
        <form onSubmit={addMember} aria-labelledby="add-member-title">
          <div class="grid-2">
            {textField({ id: 'member-username', label: t('sharing.username'), value: username.value, onInput: (v) => (username.value = v), required: true })}
            {selectField({ id: 'member-role', label: t('sharing.role'), value: role.value, options: grantable.map((r) => [r, t(`role.${r}`)]), onChange: (v) => (role.value = v) })}
            {textField({ id: 'filter-field', label: t('sharing.filterField'), value: filterField.value, onInput: (v) => (filterField.value = v) })}
            {textField({ id: 'filter-values', label: t('sharing.filterValues'), value: filterValues.value, onInput: (v) => (filterValues.value = v) })}
          </div>
          {checkbox({ id: 'only-mine', label: t('sharing.onlyMine'), checked: onlyMine.value, onChange: (v) => (onlyMine.value = v) })}
          <button type="submit">{t('sharing.add')}</button>
        </form>
      </section>

      <section class="card" aria-labelledby="devices-title">
        <h2 id="devices-title">{t('devices.title')}</h2>
        <p class="muted">{t('devices.help')}</p>
        {shownDevice.value !== null ? (
          <section class="notice notice-ok device-qr" id="device-qr" tabindex="-1" aria-labelledby="device-qr-title">
            <div class="row spread">
              <h3 id="device-qr-title">{t('devices.qrTitle', { label: shownDevice.value.device.label })}</h3>
              <button type="button" class="small secondary" onClick={hideDevice}>{t('devices.hideQr')}</button>
            </div>
            {svgImage(shownDevice.value.qrSvg, t('devices.qrAlt', { label: shownDevice.value.device.label }))}
            <p>{t('devices.serverUrl')}: <code>{shownDevice.value.serverUrl}</code></p>
            <p class="hint">{t('devices.qrSecret')}</p>
          </section>
        ) : null}
        <form class="toolbar" onSubmit={addDevice}>
          {textField({ id: 'device-label', label: t('devices.label'), value: deviceLabel.value, onInput: (v) => (deviceLabel.value = v), required: true })}
          <button type="submit">{t('devices.add')}</button>
        </form>
        <div class="table-scroll">
          <table class="stack">
            <thead><tr><th scope="col">{t('devices.label')}</th><th scope="col">{t('common.state')}</th><th scope="col">{t('common.created')}</th><th scope="col">{t('common.lastUsed')}</th><th scope="col"><span class="visually-hidden">{t('common.actions')}</span></th></tr></thead>
            <tbody>
              {devices.value.length === 0 ? <tr><td colspan={5} class="muted">{t('devices.none')}</td></tr> : null}
              {devices.value.map((device) => (
                <tr>
                  <td><strong>{device.label}</strong></td>
                  <td data-label={t('common.state')}>{badge(t(`devices.state.${device.state}`), device.state === 'active' ? 'good' : 'plain')}</td>
                  <td data-label={t('common.created')}>{formatDateTime(device.createdAt)}</td>
                  <td data-label={t('common.lastUsed')}>{device.lastUsedAt === null ? t('common.never') : formatDateTime(device.lastUsedAt)}</td>
                  <td>
                    {device.state === 'active' ? (
                      <div class="row">
                        {device.settingsAvailable ? <button type="button" id={`show-device-${device.id}`} class="small secondary" onClick={() => showDevice(device)}>{t('devices.showQr')}<span class="visually-hidden"> {device.label}</span></button> : <span class="hint">{t('devices.qrUnavailable')}</span>}
                        <button type="button" class="small secondary" onClick={() => revokeDevice(device)}>{t('common.revoke')}<span class="visually-hidden"> {device.label}</span></button>
                      </div>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </section>
  );
});
