import { describe, expect, it } from 'vitest';
import { formatTable, type Column } from '../../../firmware-ts/src/board/table.js';

interface Row {
  name: string;
  ms: number;
  note: string;
}

const COLUMNS: Column<Row>[] = [
  { title: 'name', cell: (r) => r.name },
  { title: 'ms', cell: (r) => String(r.ms), align: 'right' },
  { title: 'note', cell: (r) => r.note, maxWidth: 12 },
];

describe('formatTable', () => {
  it('pads columns to their widest cell, right-aligns numbers and leaves no trailing spaces', () => {
    const text = formatTable(COLUMNS, [
      { name: 'model files', ms: 7, note: 'ok' },
      { name: 'wake', ms: 12345, note: '' },
    ]);
    expect(text.split('\n')).toEqual([
      'name            ms  note',
      '-----------  -----  ----',
      'model files      7  ok',
      'wake         12345',
    ]);
  });

  it('cuts a cell longer than its column allows with an ellipsis, and folds newlines', () => {
    const text = formatTable(COLUMNS, [{ name: 'x', ms: 1, note: 'first line\n  second line' }]);
    expect(text.split('\n')[2]).toBe('x      1  first line …');
  });

  it('prints the header alone for no rows', () => {
    expect(formatTable(COLUMNS, []).split('\n')).toHaveLength(2);
  });
});
