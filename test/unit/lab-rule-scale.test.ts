// The rule-file time scaler of the alerts end-to-end test (test/lab/rule-scale.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatPromDuration, parsePromDuration, scaleRuleDurations } from '../lab/rule-scale.js';

void test('Prometheus durations parse and format', () => {
  assert.equal(parsePromDuration('5m'), 300_000);
  assert.equal(parsePromDuration('1h30m'), 5_400_000);
  assert.equal(parsePromDuration('250ms'), 250);
  assert.throws(() => parsePromDuration('5'), /not a Prometheus duration/);
  assert.throws(() => parsePromDuration('5x'), /not a Prometheus duration/);
  assert.equal(formatPromDuration(10_000), '10s');
  assert.equal(formatPromDuration(90_000), '1m30s');
  assert.equal(formatPromDuration(1500), '1s500ms');
  assert.equal(formatPromDuration(0), '0s');
});

void test('for: values and range selectors are scaled; numbers, labels and text are not', () => {
  const rules = [
    'groups:',
    '  - name: g',
    '    rules:',
    '      - alert: A',
    '        expr: |',
    '          rate(x_total[5m]) / rate(y_total[30m]) > 1800 / changes(z[1h])',
    '            and max_over_time(rate(x_total[1m])[10m:30s]) > 0',
    '        for: 2m',
    '        annotations:',
    "          summary: 'over the last 5 minutes'",
    '      - record: r',
    '        expr: sum(x{le="5m"})',
  ].join('\n');
  const { text, changes } = scaleRuleDurations(rules, 1 / 30);
  assert.match(text, /rate\(x_total\[10s\]\) \/ rate\(y_total\[1m\]\) > 1800 \/ changes\(z\[2m\]\)/);
  assert.match(text, /max_over_time\(rate\(x_total\[2s\]\)\[20s:1s\]\)/);
  assert.match(text, /^ {8}for: 4s$/m);
  assert.match(text, /over the last 5 minutes/);
  assert.match(text, /x\{le="5m"\}/);
  assert.deepEqual(changes, ['2m -> 4s', '[5m] -> [10s]', '[30m] -> [1m]', '[1h] -> [2m]', '[1m] -> [2s]', '[10m:30s] -> [20s:1s]']);
});

void test('unsupported modifiers and fractional milliseconds are refused', () => {
  assert.throws(() => scaleRuleDurations('expr: rate(x[5m] offset 1h)', 0.5), /offset/);
  assert.throws(() => scaleRuleDurations('expr: rate(x[1ms])', 0.5), /whole number/);
  assert.throws(() => scaleRuleDurations('for: 1m', 0), /factor/);
});
