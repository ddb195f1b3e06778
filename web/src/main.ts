import { createApp } from 'vue';
import { App } from './App.js';
import { router } from './router.js';
import { loadSession } from './session.js';
import './styles.css';

await loadSession();
createApp(App).use(router).mount('#app');
