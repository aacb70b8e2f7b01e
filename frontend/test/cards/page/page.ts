/** The component test page: the dashboard and the built-in cards, and a fake hub the test drives. */
import '../../../src/dashboard/dashboard.js';
import { FakeHub, FakeProblem } from './fake-hub.js';

declare global {
  interface Window { FakeHub: typeof FakeHub; FakeProblem: typeof FakeProblem }
}
window.FakeHub = FakeHub;
window.FakeProblem = FakeProblem;
document.body.dataset.ready = 'yes';
