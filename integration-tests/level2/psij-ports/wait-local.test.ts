// Level 2: psij-python's tests/test_wait.py, ported, on the local executor with each launcher.
import { portedWaitTests } from './wait.js';
import { localTarget } from './local-target.js';

portedWaitTests(localTarget());
