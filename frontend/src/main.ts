// Entry point of the dashboard: defines <jh-app> (router, pages, live connection).
import './app/app.js';
