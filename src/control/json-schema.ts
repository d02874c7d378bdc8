/**
 * A validator for the subset of JSON Schema (draft 2020-12 keywords) the
 * protocol's schemas use: type, properties, required, additionalProperties
 * (false), items, enum, const, minimum, maximum, minLength, maxLength,
 * pattern, minItems, maxItems. Errors name the JSON path of the value.
 */
export type JsonType = 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null';

export interface JsonSchema {
  readonly $schema?: string;
  readonly $id?: string;
  readonly title?: string;
  readonly description?: string;
  readonly type?: JsonType | readonly JsonType[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: false;
  readonly items?: JsonSchema;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly minItems?: number;
  readonly maxItems?: number;
}

/** The problems of value against schema (at most `limit`), empty when it is valid. */
export function validate(schema: JsonSchema, value: unknown, limit = 10): string[] {
  const problems: string[] = [];
  check(schema, value, '$', problems, limit);
  return problems;
}

function check(schema: JsonSchema, value: unknown, path: string, problems: string[], limit: number): void {
  if (problems.length >= limit) return;
  const problem = (text: string): void => void problems.push(`${path}: ${text}`);
  if (schema.type !== undefined) {
    const types = typeof schema.type === 'string' ? [schema.type] : schema.type;
    if (!types.some((type) => hasType(value, type)))
      return problem(`expected ${types.join(' or ')}, got ${describe(value)}`);
  }
  if (schema.const !== undefined && value !== schema.const) return problem(`expected ${JSON.stringify(schema.const)}`);
  if (schema.enum !== undefined && !schema.enum.includes(value))
    return problem(`expected one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`);
  if (typeof value === 'number') checkNumber(schema, value, problem);
  else if (typeof value === 'string') checkString(schema, value, problem);
  else if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) problem(`fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) problem(`more than ${schema.maxItems} items`);
    if (schema.items)
      value.forEach((item, index) => check(schema.items as JsonSchema, item, `${path}[${index}]`, problems, limit));
  } else if (typeof value === 'object' && value !== null)
    checkObject(schema, value as Record<string, unknown>, path, problems, limit);
}

function checkNumber(schema: JsonSchema, value: number, problem: (text: string) => void): void {
  if (schema.minimum !== undefined && value < schema.minimum) problem(`${value} is less than ${schema.minimum}`);
  if (schema.maximum !== undefined && value > schema.maximum) problem(`${value} is more than ${schema.maximum}`);
}

function checkString(schema: JsonSchema, value: string, problem: (text: string) => void): void {
  if (schema.minLength !== undefined && value.length < schema.minLength)
    problem(`shorter than ${schema.minLength} characters`);
  if (schema.maxLength !== undefined && value.length > schema.maxLength)
    problem(`longer than ${schema.maxLength} characters`);
  if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value))
    problem(`${JSON.stringify(value.slice(0, 80))} does not match ${schema.pattern}`);
}

function checkObject(
  schema: JsonSchema,
  value: Record<string, unknown>,
  path: string,
  problems: string[],
  limit: number,
): void {
  for (const name of schema.required ?? []) {
    if (!Object.hasOwn(value, name)) problems.push(`${path}: missing ${name}`);
  }
  for (const [name, item] of Object.entries(value)) {
    const property = schema.properties?.[name];
    if (property) check(property, item, `${path}.${name}`, problems, limit);
    else if (schema.additionalProperties === false)
      problems.push(`${path}: unexpected property ${JSON.stringify(name)}`);
  }
}

function hasType(value: unknown, type: JsonType): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    default:
      return typeof value === type;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
