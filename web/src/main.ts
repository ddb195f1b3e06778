import { createApp } from 'vue';
import { App } from './App.js';
import { router } from './router.js';
import { loadInstanceLinks } from './instance.js';
import { loadSession } from './session.js';
import './styles.css';

void loadInstanceLinks();
await loadSession();
createApp(App).use(router).mount('#app');
