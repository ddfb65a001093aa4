/**
 * The codec on its own: decode text frames into typed messages (or into the ReceptionStatus to
 * answer them with), and encode messages after checking them. No network.
 *
 *   node codec.js
 *
 * How to build and run the examples: examples/README.md.
 */
import { decode, encode, S2Error, type DecodeResult, type PowerMeasurement } from 's2-engine';

/** Prints what decode made of a frame: the message, or the status, the problems and the reply. */
function show(title: string, result: DecodeResult): void {
  console.log(`\n${title}`);
  if (result.ok) {
    console.log(`  ok: ${result.message.message_type}`);
    return;
  }
  const { status, subjectMessageId, problems, reply } = result.error;
  console.log(`  ${status} for message ${subjectMessageId}`);
  for (const p of problems)
    console.log(`  - ${p.path}: ${p.message}${p.value !== undefined ? ` (got ${p.value})` : ''}${p.rule ? ` [${p.rule}]` : ''}`);
  console.log(`  reply: ${JSON.stringify(reply)}`);
}

// A valid frame: the result is typed, and message_type narrows it.
const frame = '{"message_type":"FRBC.StorageStatus","message_id":"4c6b2a0e-1d3f-4e5a-8b7c-9d0e1f2a3b4c","present_fill_level":42.5}';
const result = decode(frame);
show('a valid FRBC.StorageStatus', result);
if (result.ok && result.message.message_type === 'FRBC.StorageStatus')
  console.log(`  present_fill_level = ${result.message.present_fill_level}`);

// Not JSON: INVALID_DATA, answered for the nil UUID (there is no message_id to answer).
show('not JSON', decode('{"message_type": "FRBC.StorageStatus", '));

// A schema violation: INVALID_MESSAGE with a JSONPath per problem.
show(
  'a string where a number belongs, and a missing field',
  decode(
    '{"message_type":"FRBC.ActuatorStatus","message_id":"5d7c3b1f-2e4a-4f6b-9c8d-0e1f2a3b4c5d","active_operation_mode_id":"idle","operation_mode_factor":"0.5"}',
  ),
);

// A rule beyond the JSON Schema: one value per commodity quantity in a measurement (R107).
const twice =
  '{"message_type":"PowerMeasurement","message_id":"6e8d4c2a-3f5b-4a7c-8d9e-1f2a3b4c5d6e","measurement_timestamp":"2026-01-01T12:00:00Z",' +
  '"values":[{"commodity_quantity":"ELECTRIC.POWER.L1","value":230},{"commodity_quantity":"ELECTRIC.POWER.L1","value":240}]}';
show('the same commodity quantity twice', decode(twice));
show('the same, JSON Schema only (rules: false)', decode(twice, { rules: false }));

// IDs: the schema allows any short string; { ids: 'uuid' } demands canonical UUIDs, as some peers do.
const shortId = '{"message_type":"FRBC.StorageStatus","message_id":"status-1","present_fill_level":42.5}';
show('a message_id that is not a UUID', decode(shortId));
show('the same with { ids: "uuid" }', decode(shortId, { ids: 'uuid' }));

// encode checks before it serialises: the types catch most mistakes, the rules the rest.
const measurement: PowerMeasurement = {
  message_type: 'PowerMeasurement',
  message_id: '7f9e5d3b-4a6c-4b8d-9e0f-2a3b4c5d6e7f',
  measurement_timestamp: new Date().toISOString(),
  values: [{ commodity_quantity: 'ELECTRIC.POWER.3_PHASE_SYMMETRIC', value: 2300 }],
};
console.log(`\nencode(a valid PowerMeasurement)\n  ${encode(measurement)}`);

try {
  encode({ ...measurement, values: [...measurement.values, { commodity_quantity: 'ELECTRIC.POWER.3_PHASE_SYMMETRIC', value: 2400 }] });
} catch (err) {
  if (!(err instanceof S2Error)) throw err;
  console.log(`\nencode(an invalid PowerMeasurement) threw S2Error ${err.code}\n  ${err.message}`);
  for (const p of err.problems) console.log(`  - ${p.path}: ${p.message}${p.rule ? ` [${p.rule}]` : ''}`);
}
