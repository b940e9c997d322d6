// Level 2: psij-python's tests/test_nodefile.py, ported, on the local executor with each launcher.
import { localTarget } from './local-target.js';
import { portedNodefileTests } from './nodefile.js';

portedNodefileTests(localTarget());
