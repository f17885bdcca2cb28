import {expect} from 'chai'

import {type Column, renderCsv, renderTable, wrapText} from '../../src/lib/output.js'

interface Row {
  alias: string
  id: string
  state: string
  manager: string
  created: string
  description: string
  count: string
}

const rows: Row[] = [
  {alias: 'alias/prod-payments', count: '12', created: '2026-12-05', description: 'Production payments data encryption key for the payments service', id: '5c06f037-4c69-4238-973f-6dcc084a47be', manager: 'CUSTOMER', state: 'Enabled'},
  {alias: '', count: '7', created: '2026-12-04', description: 'Scratch key', id: 'a1d7d65f-1d57-4452-b1d8-b4b8b46e5853', manager: 'CUSTOMER', state: 'Disabled'},
]
const columns: Array<Column<Row>> = [
  {get: (r) => r.alias, header: 'Alias', kind: 'name'},
  {get: (r) => r.id, header: 'Key ID', kind: 'id', minWidth: 9},
  {get: (r) => r.state, header: 'State', kind: 'fixed'},
  {get: (r) => r.count, header: 'Grants', kind: 'fixed', priority: 2},
  {get: (r) => r.manager, header: 'Manager', kind: 'fixed', priority: 6},
  {get: (r) => r.created, header: 'Created', kind: 'fixed', priority: 5},
  {get: (r) => r.description, header: 'Description', kind: 'text', minWidth: 16, priority: 2},
]

describe('renderTable', () => {
  it('fits the width: one line a row, low-value columns dropped first, names whole, an ellipsis where cut', () => {
    for (const width of [60, 80, 120]) {
      const lines = renderTable(rows, columns, {width}).split('\n')
      expect(lines).to.have.length(rows.length + 1)
      for (const l of lines) expect(l.length, `${width}: ${l}`).to.be.at.most(width)
      expect(lines[1].startsWith('alias/prod-payments ')).to.equal(true)
    }

    const at80 = renderTable(rows, columns, {width: 80}).split('\n')
    expect(at80[0]).not.to.contain('Manager')
    expect(at80[0]).not.to.contain('Created')
    const at60 = renderTable(rows, columns, {width: 60}).split('\n')
    expect(at60[1]).to.match(/5c06f037[0-9a-f-]*…/)
  })

  it('right-aligns numbers, and leaves out a column empty in every row', () => {
    const lines = renderTable(rows, [columns[0], columns[3], {get: () => '', header: 'Empty'}], {width: 200}).split('\n')
    expect(lines).to.deep.equal(['Alias                Grants', 'alias/prod-payments      12', '                          7'])
  })

  it('--columns picks and orders columns, suggests the name meant; -o wide shows wide columns', () => {
    expect(renderTable(rows, columns, {columns: ['state', 'alias'], width: 200}).split('\n')[0]).to.equal('State     Alias')
    expect(() => renderTable(rows, columns, {columns: ['stat'], width: 200})).to.throw('--columns: no column "stat". Did you mean state?')
    const wide = [...columns, {get: (r: Row) => `arn:${r.id}`, header: 'ARN', wide: true}]
    expect(renderTable(rows, wide, {width: 400}).split('\n')[0]).not.to.contain('ARN')
    expect(renderTable(rows, wide, {wide: true, width: 400}).split('\n')[0]).to.contain('ARN')
  })

  it('CSV has every column in full', () => {
    expect(renderCsv(rows.slice(0, 1), columns).split('\n')).to.deep.equal([
      'alias,key-id,state,grants,manager,created,description',
      'alias/prod-payments,5c06f037-4c69-4238-973f-6dcc084a47be,Enabled,12,CUSTOMER,2026-12-05,Production payments data encryption key for the payments service',
    ])
  })
})

describe('wrapText', () => {
  it('wraps at word boundaries, never splits a word, and keeps a hanging indent for list items', () => {
    expect(wrapText('one two three four five', 9)).to.equal('one two\nthree\nfour five')
    expect(wrapText('a arn:aws:iam::111122223333:role/Long b', 10)).to.equal('a\narn:aws:iam::111122223333:role/Long\nb')
    expect(wrapText('- api: reads the events of the region', 16)).to.equal('- api: reads the\n  events of the\n  region')
  })
})
