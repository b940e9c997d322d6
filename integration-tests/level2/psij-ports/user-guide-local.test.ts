// Level 2: psij-python's user-guide and getting-started examples, ported, on the local executor with each launcher.
import { localTarget } from './local-target.js';
import { portedUserGuideTests } from './user-guide.js';

portedUserGuideTests(localTarget());
