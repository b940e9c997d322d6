// Level 2: psij-python's tests/test_callbacks.py, ported, on the local executor with each launcher.
import { portedCallbackTests } from './callbacks.js';
import { localTarget } from './local-target.js';

portedCallbackTests(localTarget());
