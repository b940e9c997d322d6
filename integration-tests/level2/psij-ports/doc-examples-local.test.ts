// Level 2: psij-python's tests/test_doc_examples.py, ported, on the local executor with each launcher.
import { portedDocExampleTests } from './doc-examples.js';
import { localTarget } from './local-target.js';

portedDocExampleTests(localTarget());
