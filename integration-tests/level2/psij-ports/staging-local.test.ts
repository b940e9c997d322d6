// Level 2: psij-python's tests/test_staging.py, ported, on the local executor with each launcher.
import { localTarget } from './local-target.js';
import { portedStagingTests } from './staging.js';

portedStagingTests(localTarget());
