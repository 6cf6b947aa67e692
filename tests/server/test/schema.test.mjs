// Tests of lib/schema.js: the W&B schema loads, and resolver maps attach the way the server relies on.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {graphql} from 'graphql';
import {loadSchema, attachResolvers} from '../lib/schema.js';

// Execution results have null-prototype objects; compare them as JSON, as clients see them.
const plain = r => JSON.parse(JSON.stringify(r));

test('the schema has the W&B root fields and the SDK extensions', () => {
	const schema = loadSchema();
	const query = schema.getQueryType().getFields();
	for (const f of ['viewer', 'project', 'entity', 'models', 'artifact', 'serverInfo'])
		assert.ok(query[f], f);
	assert.ok(schema.getType('Project').getFields().internalId, 'schema-ext.graphql is merged in');
	assert.ok(schema.getType('Organization').getFields().orgEntity);
});

test('maps attach field resolvers; unresolved object fields read properties', async () => {
	const schema = attachResolvers(loadSchema(),
		{Query: {viewer: (p, a, ctx) => ctx.user}},
		{User: {username: u => u.login.toUpperCase()}});
	const r = await graphql({schema, source: '{ viewer { id username } }', contextValue: {user: {id: 'VXNlcjox', login: 'ann'}}});
	assert.deepEqual(plain(r), {data: {viewer: {id: 'VXNlcjox', username: 'ANN'}}});
});

test('a root field nobody resolves is an error, not a silent null', async () => {
	const schema = attachResolvers(loadSchema(), {Query: {viewer: () => null}});
	const r = await graphql({schema, source: '{ viewer { id } serverInfo { cliVersionInfo } }'});
	assert.equal(r.data.viewer, null);
	assert.equal(r.data.serverInfo, null);
	assert.equal(r.errors.length, 1);
	assert.match(r.errors[0].message, /Query\.serverInfo is not implemented/);
	const m = await graphql({schema, source: 'mutation { deleteRun(input: {id: "x"}) { clientMutationId } }'});
	assert.match(m.errors[0].message, /Mutation\.deleteRun is not implemented/);
});

test('unknown types and fields, clashes and misplaced hooks stop the server at startup', () => {
	assert.throws(() => attachResolvers(loadSchema(), {Nope: {x: () => 1}}), /no type Nope/);
	assert.throws(() => attachResolvers(loadSchema(), {User: {nope: () => 1}}), /no field User\.nope/);
	assert.throws(() => attachResolvers(loadSchema(), {User: {id: () => 1}}, {User: {id: () => 2}}),
		/User\.id is already resolved by resolver map #1/);
	assert.throws(() => attachResolvers(loadSchema(), {User: {__resolveType: () => 'User'}}), /not abstract/);
	assert.throws(() => attachResolvers(loadSchema(), {User: {id: 'x'}}), /not a function/);
	assert.throws(() => attachResolvers(loadSchema(), {DateTime: {resolve: () => 1}}), /no hook resolve/);
});

test('interface field resolvers serve the implementations; __resolveType and scalar hooks attach', async () => {
	const schema = loadSchema();
	const impl = schema.getPossibleTypes(schema.getType('Node')).map(t => t.name);
	assert.ok(impl.includes('User'));
	attachResolvers(schema,
		{Query: {viewer: () => ({raw: 7})}},
		{Node: {id: o => `id-${o.raw}`}, DateTime: {serialize: v => `T${v}`}, User: {createdAt: () => 5}});
	const r = await graphql({schema, source: '{ viewer { id createdAt } }'});
	assert.deepEqual(plain(r), {data: {viewer: {id: 'id-7', createdAt: 'T5'}}});
});
