import {expect} from 'chai'

import {parameterValue, statementType, toDuckDb} from '../../../src/sandbox/sql/dialect.js'

describe('sandbox SQL: Trino to DuckDB', () => {
  it('renames only the functions that differ, and leaves strings, quoted names and comments alone', () => {
    const sql = "SELECT element_at(resources, 1).arn, cardinality(filter(resources, r -> r.arn = 'element_at(x)')), array_join(transform(x, y -> y), ' ') -- cardinality(x)\nFROM `db`.`t` WHERE \"element_at\" = 'it''s'"
    expect(toDuckDb(sql)).to.equal(
      "SELECT trino_element_at(resources, 1).arn, len(filter(resources, r -> r.arn = 'element_at(x)')), array_to_string(list_transform(x, y -> y), ' ') -- cardinality(x)\nFROM \"db\".\"t\" WHERE \"element_at\" = 'it''s'",
    )
  })

  it('a CloudTrail Lake event data store ID after FROM becomes the events table', () => {
    expect(toDuckDb('SELECT eventID FROM EXAMPLE-f852-4e8f-8bd1 WHERE x = 1', {lakeTable: () => '"lake_events"'})).to.equal('SELECT eventID FROM "lake_events" WHERE x = 1')
  })

  it('refuses an unterminated string', () => {
    expect(() => toDuckDb("SELECT 'x")).to.throw(/unterminated string/)
  })

  it('reads execution parameters as one literal each', () => {
    expect(parameterValue("'o''brien'")).to.equal("o'brien")
    expect(parameterValue('42')).to.equal(42)
    expect(parameterValue('true')).to.equal(true)
    expect(parameterValue('NULL')).to.equal(null)
    expect(() => parameterValue("'a' OR 'b'")).to.throw(/not one literal/)
    expect(() => parameterValue('a')).to.throw(/not a literal/)
  })

  it('knows DDL from queries', () => {
    expect(statementType('  select 1')).to.equal('DML')
    expect(statementType('CREATE EXTERNAL TABLE x (a string)')).to.equal('DDL')
  })
})
