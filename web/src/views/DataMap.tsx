/**
 * The data screen's map: the geopoint answers of the submissions the filters match, as points on
 * a Leaflet map (this chunk, loaded only when the map is first opened). The base layer is the
 * operator's tile server (FIELDKEEP_MAP_TILE_URL) when set; otherwise there is none, the points
 * sit on a plain background with latitude and longitude lines and a scale, and nothing is fetched
 * from anywhere. Each point is a button opening its submission, and the same points are listed as
 * a table.
 */
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import './map.css';
import { computed, defineComponent, h, onBeforeUnmount, ref, watch, type PropType } from 'vue';
import { RouterLink, useRouter } from 'vue-router';
import { attempt, errorNotice, selectField } from '../components/ui.js';
import { submissionIdOf } from '../data.js';
import { formatDateTime, formatNumber, locale, t } from '../i18n.js';
import { instanceLinks, loadInstanceLinks } from '../instance.js';
import { pointOf, readRows } from '../summary.js';
import type { SubmissionRow } from '../types.js';
import { labelIn, type FormShape } from '../xform.js';

/** Submissions read for the map at most; the newest are used beyond it, and the screen says so. */
export const MAP_CAP = 5_000;

interface Point {
  id: string;
  number: string;
  lat: number;
  lon: number;
  time: string;
}

/** About five round steps across a span of degrees. */
function ticks(from: number, to: number): number[] {
  const raw = (to - from) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const first = Math.ceil(from / step) * step;
  return Array.from({ length: Math.floor((to - first) / step) + 1 }, (_, i) => first + i * step);
}

/** Leaflet writes attributions as markup; the operator's credit is text. */
const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export default defineComponent({
  props: {
    base: { type: String, required: true },
    shape: { type: Object as PropType<FormShape>, required: true },
    language: { type: String, required: true },
    filter: { type: String as PropType<string | undefined>, default: undefined },
    submissionPath: { type: Function as PropType<(id: string) => string>, required: true },
  },
  setup(props) {
    const router = useRouter();
    const geoQuestions = computed(() => props.shape.questions.filter((q) => !q.inRepeat && q.type === 'geopoint'));
    const chosen = ref('');
    const key = () => chosen.value || geoQuestions.value[0]?.key || '';
    const rows = ref<SubmissionRow[] | null>(null);
    const total = ref(0);
    const error = ref<unknown>(null);
    const box = ref<HTMLElement | null>(null);
    let map: L.Map | null = null;
    const pointLayer = L.layerGroup();
    const gridLayer = L.layerGroup();
    let fitted: L.LatLngBounds | null = null;
    // A phone turned, a window narrowed: Leaflet keeps the centre, so points near the edge would be
    // cut off; the map is fitted to the points again instead.
    const observer = new ResizeObserver(() => {
      if (map === null || fitted === null) return;
      map.invalidateSize({ pan: false });
      map.fitBounds(fitted, { padding: [48, 40], maxZoom: 15, animate: false });
    });

    const coordinate = (value: number) => value.toLocaleString(locale.value, { maximumFractionDigits: 5 });

    /** Latitude and longitude lines across the visible area, redrawn as it moves: the plain map's only landmarks. */
    function drawGraticule() {
      if (map === null) return;
      gridLayer.clearLayers();
      const bounds = map.getBounds();
      const [south, north, west, east] = [Math.max(bounds.getSouth(), -85), Math.min(bounds.getNorth(), 85), bounds.getWest(), bounds.getEast()];
      const line = { className: 'map-grid', weight: 1, interactive: false };
      const label = (text: string, at: L.LatLngExpression, className: string, anchor: L.PointExpression) =>
        L.marker(at, { icon: L.divIcon({ className, html: escapeHtml(text), iconSize: [64, 14], iconAnchor: anchor }), interactive: false, keyboard: false });
      // Longitudes along the bottom, latitudes along the right edge: the zoom buttons and the scale hold the left.
      for (const lon of ticks(west, east)) {
        gridLayer.addLayer(L.polyline([[south, lon], [north, lon]], line));
        gridLayer.addLayer(label(coordinate(lon), [south, lon], 'map-grid-label', [-3, 16]));
      }
      for (const lat of ticks(south, north)) {
        gridLayer.addLayer(L.polyline([[lat, west], [lat, east]], line));
        gridLayer.addLayer(label(coordinate(lat), [lat, east], 'map-grid-label map-grid-label-end', [67, 14]));
      }
    }

    function drawPoints(list: Point[]) {
      if (map === null) return;
      pointLayer.clearLayers();
      for (const point of list) {
        const label = t('map.point', { number: point.number, lat: coordinate(point.lat), lon: coordinate(point.lon) });
        const marker = L.marker([point.lat, point.lon], { icon: L.divIcon({ className: 'map-point', iconSize: [14, 14] }), title: label, keyboard: true, riseOnHover: true });
        const open = () => void router.push(props.submissionPath(point.id));
        marker.on('click', open);
        // Leaflet makes a marker a focusable button but opens nothing on Enter or Space without a popup; a button does.
        marker.on('add', () => {
          const element = marker.getElement();
          element?.setAttribute('aria-label', label);
          element?.addEventListener('keydown', (event) => {
            if (event.key !== 'Enter' && event.key !== ' ') return;
            event.preventDefault();
            open();
          });
        });
        pointLayer.addLayer(marker);
      }
      fitted = L.latLngBounds(list.map((p) => [p.lat, p.lon] as [number, number]));
      // Room around the points for the zoom buttons and the scale, so none is hidden under them.
      map.fitBounds(fitted, { padding: [48, 40], maxZoom: 15, animate: false });
    }

    async function mount(element: HTMLElement, list: Point[]) {
      await loadInstanceLinks();
      if (box.value !== element) return;
      const tileUrl = instanceLinks.mapTileUrl;
      // Whole zoom levels over tiles (scaled tiles blur and show seams); half levels fit the points more closely without.
      map = L.map(element, { zoomSnap: tileUrl === null ? 0.5 : 1, worldCopyJump: true, attributionControl: tileUrl !== null });
      if (tileUrl !== null) {
        element.classList.add('with-tiles');
        L.tileLayer(tileUrl, { maxZoom: 19, attribution: instanceLinks.mapTileAttribution === null ? '' : escapeHtml(instanceLinks.mapTileAttribution) }).addTo(map);
      } else {
        gridLayer.addTo(map);
        map.on('moveend', drawGraticule);
      }
      L.control.scale({ imperial: false }).addTo(map);
      pointLayer.addTo(map);
      drawPoints(list);
      observer.observe(element);
    }

    function unmount() {
      observer.disconnect();
      map?.remove();
      map = null;
      fitted = null;
    }
    onBeforeUnmount(unmount);

    /** A reading started before the filters or the question last changed is dropped when it ends. */
    let latestLoad = 0;

    async function load() {
      const ticket = ++latestLoad;
      rows.value = null;
      if (key() === '') return;
      await attempt(error, async () => {
        // Submissions without a location are skipped here rather than filtered out on the server,
        // which cannot filter on answers it cannot read (encrypted submissions).
        const result = await readRows(props.base, { fields: ['_id', 'meta/rootUuid', 'meta/instanceID', '_submission_time', key()], filter: props.filter, cap: MAP_CAP }, () => undefined);
        if (ticket !== latestLoad) return;
        rows.value = result.rows;
        total.value = result.total;
      });
    }
    watch(() => [props.base, props.filter, key()], load, { immediate: true });

    const points = computed<Point[]>(() =>
      (rows.value ?? []).flatMap((row) => {
        const point = pointOf(row[key()]);
        return point === null ? [] : [{ id: submissionIdOf(row), number: String(row._id ?? ''), lat: point[0], lon: point[1], time: String(row._submission_time ?? '') }];
      }),
    );

    // The map's box appears with the first points and goes when there are none; the map follows it.
    watch([box, points], ([element, list], [oldElement]) => {
      if (element !== oldElement) unmount();
      if (element === null || list.length === 0) return;
      if (map === null) void mount(element, list);
      else drawPoints(list);
    });

    return () => {
      if (geoQuestions.value.length === 0) return <p class="card muted">{t('map.noQuestion')}</p>;
      const question = geoQuestions.value.find((q) => q.key === key())!;
      return (
        <div class="page">
          <div class="card">
            <div class="toolbar">
              {geoQuestions.value.length > 1
                ? selectField({ id: 'map-question', label: t('map.question'), value: key(), options: geoQuestions.value.map((q) => [q.key, labelIn(q.labels, props.language, q.key)]), onChange: (v) => (chosen.value = v) })
                : <p><strong>{labelIn(question.labels, props.language, question.key)}</strong></p>}
              <a class="button secondary" href={`${props.base}/export.geojson?geoField=${encodeURIComponent(key())}`} download>{t('map.geojson')}</a>
            </div>
            <p class="hint">{instanceLinks.mapTileUrl === null ? `${t('map.noTiles')} ` : ''}{t('map.keyboard')}</p>
          </div>
          {errorNotice(error.value)}
          {rows.value === null && error.value === null ? <p role="status" class="card">{t('app.loading')}</p> : null}
          {rows.value !== null && points.value.length === 0 ? <p class="card muted">{t('map.empty')}</p> : null}
          {rows.value !== null && points.value.length > 0 ? (
            <section class="card" aria-labelledby="map-title">
              <h2 id="map-title" class="visually-hidden">{t('map.title')}</h2>
              <p role="status" class="muted">
                {rows.value.length < total.value
                  ? t('map.capped', { count: formatNumber(points.value.length), read: formatNumber(rows.value.length), total: formatNumber(total.value) })
                  : t('map.count', { count: formatNumber(points.value.length), total: formatNumber(rows.value.length) })}
                {props.filter !== undefined ? ` ${t('summary.filtered')}` : ''}
              </p>
              <div class="map" ref={box} role="group" aria-label={t('map.plotLabel', { count: formatNumber(points.value.length) })} />
              <details>
                <summary>{t('map.list', { count: formatNumber(points.value.length) })}</summary>
                <div class="table-scroll">
                  <table>
                    <thead><tr><th scope="col">{t('data.open')}</th><th scope="col">{t('map.latitude')}</th><th scope="col">{t('map.longitude')}</th><th scope="col">{t('data.submittedAt')}</th></tr></thead>
                    <tbody>
                      {points.value.map((point) => (
                        <tr>
                          <td><RouterLink to={props.submissionPath(point.id)}>{t('map.submission', { number: point.number })}</RouterLink></td>
                          <td>{coordinate(point.lat)}</td>
                          <td>{coordinate(point.lon)}</td>
                          <td>{formatDateTime(point.time)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </details>
            </section>
          ) : null}
        </div>
      );
    };
  },
});
