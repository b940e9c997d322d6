// Level 2: psij-python's tests/test_executor.py, ported, on the local executor with each launcher.
import { portedExecutorTests } from './executor.js';
import { localTarget } from './local-target.js';

portedExecutorTests(localTarget());
