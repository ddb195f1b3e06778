/** The frame of the fill page: the name, how many submissions wait on this device, and the page for the address. */
import { defineComponent, h, onMounted, ref } from 'vue';
import { t } from './messages.js';
import { FormPage } from './FormPage.js';
import { HomePage } from './HomePage.js';
import { fillRoute } from './location.js';
import { outboxState } from './outbox.js';

export const FillApp = defineComponent(() => {
  const route = fillRoute(location);
  const offlineReady = ref(false);
  onMounted(() => {
    if ('serviceWorker' in navigator) void navigator.serviceWorker.ready.then(() => (offlineReady.value = true));
  });

  function status(): string {
    if (outboxState.needsSignIn) return t('fill.signInToSend');
    if (outboxState.waiting > 0) return t('fill.waiting', { count: outboxState.waiting });
    if (outboxState.refused > 0) return t('fill.refusedCount', { count: outboxState.refused });
    return t('fill.nothingWaiting');
  }

  function page() {
    switch (route.kind) {
      case 'home':
        return <HomePage />;
      case 'form':
        return <FormPage target={route.target} draftId={route.draftId} />;
      case 'edit':
        return <FormPage target={route.target} editInstanceId={route.instanceId} />;
      default:
        return <p class="fill-page">{t('fill.unknownPage')}</p>;
    }
  }

  return () => (
    <div class="fill-frame">
      <header class="fill-bar">
        <a class="fill-brand" href="/fill/">
          <img src="/favicon.svg" alt="" width="24" height="24" />
          <span>{t('fill.appName')}</span>
        </a>
        <p class="fill-outbox" role="status" data-testid="outbox-status">
          <span>{status()}</span>
          {outboxState.unreachable ? <span class="fill-offline">{t('fill.offline')}</span> : null}
          {offlineReady.value && route.kind !== 'home' ? <span class="fill-ready">{t('fill.offlineReady')}</span> : null}
        </p>
      </header>
      <main class="fill-main">{page()}</main>
    </div>
  );
});
