#!/usr/bin/env node
// A committed shim so npm can link the `exaworks` bin at install time, before dist/ is built.
import '../dist/bin.js';
