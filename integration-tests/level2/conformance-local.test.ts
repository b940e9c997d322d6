import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getExecutor } from '@exaworks/jpsi-core';
import { psijConformanceSuite } from './conformance/suite.js';
import { requireTool } from '../support/tools.js';

const workDirectory = mkdtempSync(path.join(os.tmpdir(), 'exa-conf-local-work-'));
const config = { workDirectory, maxCores: 2 };

psijConformanceSuite({
  name: 'local',
  config,
  capacity: 2,
  launchers: ['single', 'multiple', ...(requireTool('mpirun', 'run: sudo bash scripts/ci-setup.sh') ? ['mpirun'] : [])],
  create: () => getExecutor('local', config),
});
