// schema.js: loads the W&B schema (schema/schema-full.graphql) and attaches resolver maps to it.
//
// A resolver map is shaped {TypeName: {fieldName(parent, args, ctx, info), ...}, ...}. A field resolver
// given on an interface serves every implementing object type that has none of its own (graphql-js
// itself only calls the object types' resolvers). Besides fields, a map entry may hold `__resolveType` (interfaces and unions), `__isTypeOf` (object types) or, for a custom scalar,
// `serialize` / `parseValue` / `parseLiteral`. A name that is not in the schema is an error at startup, so a
// schema refresh cannot silently detach a resolver. Object fields with no resolver use graphql-js's default
// property resolver; root fields (Query, Mutation) with no resolver raise an error when selected, so the
// server never answers a query it does not implement with a silent null.

import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {
	buildSchema, validateSchema, isObjectType, isInterfaceType, isUnionType, isScalarType,
} from 'graphql';

export const SCHEMA_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'schema',
	'schema-full.graphql');

// Builds the schema from the SDL file and validates it (a few hundred ms: the server does it once).
export function loadSchema() {
	const schema = buildSchema(fs.readFileSync(SCHEMA_FILE, 'utf8'), {assumeValidSDL: true});
	const errors = validateSchema(schema);
	if (errors.length)
		throw new Error(`${SCHEMA_FILE}: ${errors.map(e => e.message).join('; ')}`);
	return schema;
}

const SCALAR_HOOKS = ['serialize', 'parseValue', 'parseLiteral'];

function attachToType(type, entries, where) {
	for (const [key, fn] of Object.entries(entries)) {
		if (typeof fn !== 'function')
			throw new Error(`${where}: ${type.name}.${key} is not a function`);
		if (key === '__resolveType') {
			if (!isInterfaceType(type) && !isUnionType(type))
				throw new Error(`${where}: __resolveType on ${type.name}, which is not abstract`);
			type.resolveType = fn;
		} else if (key === '__isTypeOf') {
			if (!isObjectType(type))
				throw new Error(`${where}: __isTypeOf on ${type.name}, which is not an object type`);
			type.isTypeOf = fn;
		} else if (isScalarType(type)) {
			if (!SCALAR_HOOKS.includes(key))
				throw new Error(`${where}: scalar ${type.name} has no hook ${key}`);
			type[key] = fn;
		} else if (isObjectType(type) || isInterfaceType(type)) {
			const field = type.getFields()[key];
			if (!field)
				throw new Error(`${where}: the schema has no field ${type.name}.${key}`);
			field.resolve = fn;
		} else {
			throw new Error(`${where}: cannot attach ${key} to ${type.name}`);
		}
	}
}

function notImplemented(typeName, fieldName) {
	return () => {
		throw new Error(`${typeName}.${fieldName} is not implemented by the wandbfs test server`);
	};
}

// Assigns the resolvers of every map onto the schema's fields; two maps resolving the same field is a
// wiring mistake and throws. Returns the schema.
export function attachResolvers(schema, ...maps) {
	const owner = new Map();
	maps.forEach((map, i) => {
		const where = `resolver map #${i + 1}`;
		for (const [typeName, entries] of Object.entries(map || {})) {
			const type = schema.getType(typeName);
			if (!type)
				throw new Error(`${where}: the schema has no type ${typeName}`);
			for (const key of Object.keys(entries)) {
				const id = `${typeName}.${key}`;
				if (owner.has(id))
					throw new Error(`${where}: ${id} is already resolved by ${owner.get(id)}`);
				owner.set(id, where);
			}
			attachToType(type, entries, where);
		}
	});
	for (const type of Object.values(schema.getTypeMap())) {
		if (!isInterfaceType(type))
			continue;
		for (const [name, field] of Object.entries(type.getFields())) {
			if (!field.resolve)
				continue;
			for (const impl of schema.getPossibleTypes(type)) {
				const own = impl.getFields()[name];
				if (!own.resolve)
					own.resolve = field.resolve;
			}
		}
	}
	for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
		if (!root)
			continue;
		for (const field of Object.values(root.getFields())) {
			if (!field.resolve)
				field.resolve = notImplemented(root.name, field.name);
		}
	}
	return schema;
}
