/**
 * The instance's privacy policy and terms of use, and the map's base layer (settings on the
 * server), shown or used when set.
 */
import { reactive } from 'vue';

export const instanceLinks = reactive({
  privacyUrl: null as string | null,
  termsUrl: null as string | null,
  mapTileUrl: null as string | null,
  mapTileAttribution: null as string | null,
});

let loading: Promise<void> | null = null;

/** Loaded once at start; without an answer the links stay hidden and the map has no base layer, which is what unset means too. */
export function loadInstanceLinks(): Promise<void> {
  loading ??= (async () => {
    try {
      const response = await fetch('/api/v1/instance/links', { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      if (!response.ok) return;
      const links = (await response.json()) as typeof instanceLinks;
      Object.assign(instanceLinks, {
        privacyUrl: links.privacyUrl,
        termsUrl: links.termsUrl,
        mapTileUrl: links.mapTileUrl ?? null,
        mapTileAttribution: links.mapTileAttribution ?? null,
      });
    } catch {
      // Offline or refused: no links, as when none are set.
    }
  })();
  return loading;
}
