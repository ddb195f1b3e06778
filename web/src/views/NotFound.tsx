import { defineComponent, h } from 'vue';
import { RouterLink } from 'vue-router';
import { t } from '../i18n.js';

export default defineComponent(() => () => (
  <section class="page narrow">
    <h1>{t('app.notFound')}</h1>
    <p><RouterLink to="/">{t('nav.projects')}</RouterLink></p>
  </section>
));
