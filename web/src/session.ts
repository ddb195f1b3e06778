/** Who is signed in, and the CSRF token of this browser's session (kept in memory only). */
import { reactive } from 'vue';
import type { User } from './types.js';

export const session = reactive({ user: null as User | null, csrfToken: '' });

export async function loadSession(): Promise<void> {
  const response = await fetch('/api/v1/sessions/current', { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (response.ok) {
    const current = (await response.json()) as { csrfToken: string; user: User };
    session.user = current.user;
    session.csrfToken = current.csrfToken;
  } else {
    session.user = null;
    session.csrfToken = '';
  }
}
