// Entry point of the dashboard: the themes and <jh-app> (router, pages, live connection).
import './app/theme.css';
import './app/app.js';
