/**
 * The data screen's summary: for each question of the submissions the filters match, counts and
 * percentages of each choice, the spread of numbers (with a histogram) and how many did not
 * answer. Loaded only when someone opens it.
 */
import { computed, defineComponent, h, ref, watch, type PropType, type VNode } from 'vue';
import { RouterLink, useRoute } from 'vue-router';
import { attempt, errorNotice } from '../components/ui.js';
import { formatNumber, locale, t } from '../i18n.js';
import { isSummarised, readRows, summarise, type Bin, type QuestionSummary } from '../summary.js';
import type { SubmissionRow } from '../types.js';
import { labelIn, type FormShape, type Question } from '../xform.js';

/** Submissions read for a summary; the newest are used beyond it, and the screen says so. */
export const SUMMARY_CAP = 10_000;

const percent = (part: number, whole: number) => (whole === 0 ? 0 : (100 * part) / whole);
const formatPercent = (value: number) => `${value.toLocaleString(locale.value, { maximumFractionDigits: 1 })} %`;
const formatFigure = (value: number) => value.toLocaleString(locale.value, { maximumFractionDigits: 2 });

/** A bar as an SVG rectangle: its size is an attribute, never an inline style, which the policy forbids. */
function bar(share: number): VNode {
  return (
    <svg class="bar" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true" focusable="false">
      <rect x="0" y="0" width="100" height="8" class="bar-track" />
      <rect x="0" y="0" width={Math.max(0, Math.min(100, share))} height="8" class="bar-fill" />
    </svg>
  );
}

/** Bars in an SVG stretched to the width; the axis under it is text, which stretching would distort. */
function histogram(question: string, bins: Bin[]): VNode {
  const most = Math.max(...bins.map((b) => b.count), 1);
  const width = 100 / bins.length;
  const range = (b: Bin) => (b.from === b.to ? formatFigure(b.from) : `${formatFigure(b.from)}–${formatFigure(b.to)}`);
  const description = bins.map((b) => `${range(b)}: ${b.count}`).join('; ');
  return (
    <figure class="histogram">
      <svg class="histogram" viewBox="0 0 100 40" preserveAspectRatio="none" role="img" aria-label={t('summary.histogram', { question, bins: description })}>
        {bins.map((b, i) => (
          <rect x={i * width + width * 0.1} y={40 - (38 * b.count) / most} width={width * 0.8} height={(38 * b.count) / most} class="bar-fill">
            <title>{`${range(b)}: ${b.count}`}</title>
          </rect>
        ))}
      </svg>
      <div class="histogram-axis" aria-hidden="true">{bins.map((b) => <span>{formatFigure(b.from)}</span>)}</div>
    </figure>
  );
}

export default defineComponent({
  props: {
    base: { type: String, required: true },
    shape: { type: Object as PropType<FormShape>, required: true },
    language: { type: String, required: true },
    showLabels: { type: Boolean, required: true },
    filter: { type: String as PropType<string | undefined>, default: undefined },
  },
  setup(props) {
    const route = useRoute();
    const rows = ref<SubmissionRow[] | null>(null);
    const total = ref(0);
    const read = ref(0);
    const error = ref<unknown>(null);
    const questions = computed(() => props.shape.questions.filter(isSummarised));

    /** A reading started before the filters last changed is dropped when it ends. */
    let latestLoad = 0;

    async function load() {
      const ticket = ++latestLoad;
      rows.value = null;
      read.value = 0;
      await attempt(error, async () => {
        const result = await readRows(props.base, { fields: questions.value.map((q) => q.key), filter: props.filter, cap: SUMMARY_CAP }, (done, all) => {
          if (ticket !== latestLoad) return;
          read.value = done;
          total.value = all;
        });
        if (ticket !== latestLoad) return;
        rows.value = result.rows;
        total.value = result.total;
      });
    }
    watch(() => [props.base, props.filter, questions.value.length], load, { immediate: true });

    function figures(summary: QuestionSummary): VNode {
      const answered = summary.answered + summary.missing;
      return (
        <p class="muted">
          {t('summary.answered', { count: formatNumber(summary.answered), percent: formatPercent(percent(summary.answered, answered)) })} · {t('summary.missing', { count: formatNumber(summary.missing) })}
        </p>
      );
    }

    function body(question: Question, label: string, summary: QuestionSummary): VNode {
      if (summary.kind === 'choices') {
        return (
          <div class="table-scroll">
            <table class="summary-table">
              <caption class="visually-hidden">{label}</caption>
              <thead><tr><th scope="col">{t('summary.choice')}</th><th scope="col">{t('summary.count')}</th><th scope="col" class="share-cell">{t('summary.percent')}</th></tr></thead>
              <tbody>
                {summary.tallies.map((tally) => (
                  <tr>
                    <th scope="row">{tally.label}</th>
                    <td>{formatNumber(tally.count)}</td>
                    <td class="share-cell">{formatPercent(percent(tally.count, summary.answered))}{bar(percent(tally.count, summary.answered))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {summary.multiple ? <p class="hint">{t('summary.multipleHelp')}</p> : null}
          </div>
        );
      }
      if (summary.kind === 'numbers') {
        return (
          <div class="grid-2">
            <dl class="facts">
              <dt>{t('summary.min')}</dt><dd>{formatFigure(summary.min)}</dd>
              <dt>{t('summary.max')}</dt><dd>{formatFigure(summary.max)}</dd>
              <dt>{t('summary.mean')}</dt><dd>{formatFigure(summary.mean)}</dd>
              <dt>{t('summary.median')}</dt><dd>{formatFigure(summary.median)}</dd>
            </dl>
            {histogram(label, summary.bins)}
          </div>
        );
      }
      if (question.type === 'geopoint') return <p class="hint"><RouterLink to={{ query: { ...route.query, view: 'map' } }}>{t('summary.onMap')}</RouterLink></p>;
      return <p class="hint">{t('summary.typeOnly')}</p>;
    }

    return () => {
      if (error.value !== null) return errorNotice(error.value);
      if (rows.value === null) {
        return <p role="status" class="card">{total.value === 0 ? t('app.loading') : t('summary.reading', { done: formatNumber(read.value), total: formatNumber(Math.min(total.value, SUMMARY_CAP)) })}</p>;
      }
      const current = rows.value;
      return (
        <div class="page">
          <p role="status" class="muted">
            {current.length < total.value ? t('summary.capped', { count: formatNumber(current.length), total: formatNumber(total.value) }) : t('summary.of', { count: formatNumber(current.length) })}
            {props.filter !== undefined ? ` ${t('summary.filtered')}` : ''}
          </p>
          {current.length === 0 ? <p class="card muted">{t('data.empty')}</p> : null}
          {current.length === 0 ? null : questions.value.map((question) => {
            const label = props.showLabels ? labelIn(question.labels, props.language, question.key) : question.key;
            const summary = summarise(question, current, props.language, props.showLabels);
            const id = `summary-${question.key.replace(/[^A-Za-z0-9_-]/g, '-')}`;
            return (
              <section class="card summary" aria-labelledby={id}>
                <h2 id={id}>{label}</h2>
                {props.showLabels ? <p class="hint mono">{question.key}</p> : null}
                {figures(summary)}
                {body(question, label, summary)}
              </section>
            );
          })}
        </div>
      );
    };
  },
});
