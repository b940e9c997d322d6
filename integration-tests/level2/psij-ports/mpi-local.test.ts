// Level 2: psij-python's tests/test_mpi.py, ported, on the local executor with each launcher.
import { localTarget } from './local-target.js';
import { portedMpiTests } from './mpi.js';

portedMpiTests(localTarget());
