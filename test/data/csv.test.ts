import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CsvFormatError, formatCsv, parseCsv, parseCsvRecords } from '../../trainer/data/mod.js';

test('csv: quotes, doubled quotes, embedded commas and newlines stay inside one field', () => {
  const text = 'id,text\n1,"a, b"\n2,"say ""hi"""\n3,"line one\nline two"\n4,plain\n';
  const t = parseCsv(text, 'x.csv');
  assert.deepEqual(t.header, ['id', 'text']);
  assert.deepEqual(t.records.map((r) => r.fields), [['1', 'a, b'], ['2', 'say "hi"'], ['3', 'line one\nline two'], ['4', 'plain']]);
  // Record 4 starts on physical line 6 because record 3 spans lines 4-5.
  assert.deepEqual(t.records.map((r) => r.line), [2, 3, 4, 6]);
});

test('csv: BOM, CRLF, a missing final newline and blank lines are accepted', () => {
  const text = '\uFEFFid,v\r\n1,"x\r\ny"\r\n\r\n2,z';
  const t = parseCsv(text, 'x.csv');
  assert.deepEqual(t.header, ['id', 'v']);
  assert.deepEqual(t.records.map((r) => r.fields), [['1', 'x\r\ny'], ['2', 'z']]);
  assert.deepEqual(t.records.map((r) => r.line), [2, 5]);
});

test('csv: empty fields and a quoted empty field are empty strings, numbers stay strings', () => {
  const recs = parseCsvRecords('a,,""\n007,0.50,\n', 'x.csv');
  assert.deepEqual(recs.map((r) => r.fields), [['a', '', ''], ['007', '0.50', '']]);
});

test('csv: formatCsv quotes only where needed and reads back identically', () => {
  const rows = [
    ['id', 'text'],
    ['1', 'plain'],
    ['2', 'a, b'],
    ['3', 'she said "no"'],
    ['4', 'two\nlines'],
    ['5', ' padded '],
    ['6', ''],
  ];
  const text = formatCsv(rows);
  assert.ok(text.startsWith('id,text\n1,plain\n2,"a, b"\n'), text);
  assert.ok(text.includes('\n6,\n'), text);
  assert.ok(text.includes('"she said ""no"""'));
  const back = parseCsvRecords(text, 'x.csv').map((r) => r.fields);
  assert.deepEqual(back, rows);
});

test('csv: an unterminated quote is reported at the line the quote opened', () => {
  const text = 'id,text\n1,ok\n2,"never closed\nmore\n';
  assert.throws(() => parseCsv(text, 'f.csv'), (e: unknown) => {
    assert.ok(e instanceof CsvFormatError);
    assert.equal(e.line, 3);
    assert.equal(e.column, 'text');
    assert.match(e.message, /^f\.csv:3: column text: unterminated quoted field/);
    return true;
  });
});

test('csv: text after a closing quote is an error naming the line and column', () => {
  assert.throws(() => parseCsv('id,text\n1,"ab"c\n', 'f.csv'), (e: unknown) => e instanceof CsvFormatError && e.line === 2 && e.column === 'text');
});

test('csv: a wrong field count names the physical line, after an embedded newline', () => {
  const text = 'id,a,b\n1,"x\ny",z\n2,only\n';
  assert.throws(() => parseCsv(text, 'f.csv'), (e: unknown) => {
    assert.ok(e instanceof CsvFormatError);
    assert.equal(e.line, 4); // the third record (index 2) sits on physical line 4
    assert.equal(e.column, 'b');
    assert.match(e.message, /expected 3 fields as in the header, found 2/);
    return true;
  });
});
