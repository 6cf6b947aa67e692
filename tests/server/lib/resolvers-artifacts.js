// resolvers-artifacts.js: GraphQL resolvers for artifact types, collections (sequences and
// portfolios), versions, memberships, aliases, manifests, artifact files, registries (org-entity
// queries across registry projects) and run inputs/outputs, over the model of ./artifacts.js.
//
// Shape as resolvers-core.js: {TypeName: {field(parent, args, ctx, info)}} with ctx = {store, user,
// baseUrl, storageUrl(relPath), apiUrl(path), pageCap}. Anything absent or invisible to ctx.user
// resolves to null; malformed filters/order/cursors are GraphQL errors. The ArtifactCollection
// interface is resolved by `__resolveType` (the record's __typename), Initiator likewise.
//
// Artifact files are File nodes in resolvers-core.js's shape: directUrl = the storage URL of the
// blob, url = the authenticated API route of the version's storage layout (V1 /artifacts/<entity>/
// <md5hex>, V2 /artifactsV2/<region>/<entity>/<project>/<collection>/<birthArtifactID>/<md5hex>/
// <basename>) for the collection the version was addressed through. Reference entries have no
// blob and are not listed as files (they are in the manifest), as on the real server, where only
// uploaded entries become file records.

import {paginate} from './paginate.js';
import {compileFilter, compileOrder, lookupPath} from './filters.js';
import {projectFieldOf} from './resolvers-core.js';
import {base64, formatTime, mimetypeOf} from './store.js';
import {
	artifactModel, projectArtifacts, findMembership, membershipByName, membershipAliases,
	visibleMemberships, splitMembershipName, BLOB_DIR,
} from './artifacts.js';

const PAGE_INFO_EMPTY = {hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null};
const emptyConnection = () => ({edges: [], pageInfo: PAGE_INFO_EMPTY, totalCount: 0});
const time = (ms) => formatTime(ms);
const enc = encodeURIComponent;

const canSee = (ctx, coll) => Boolean(coll) && ctx.store.canSeeProject(ctx.user, coll.project);
const visibleColl = (ctx, coll) => (canSee(ctx, coll) ? coll : null);

// ---- filters and order ----------------------------------------------------------------------------

const timeField = (get) => ({get, type: 'time'});

const COLLECTION_FIELDS = {
	id: {get: (c) => c.numericId}, collection_id: {get: (c) => c.numericId},
	artifact_collection_id: {get: (c) => c.numericId}, name: {get: (c) => c.name},
	description: {get: (c) => c.description}, tag: {get: (c) => c.tags.map((t) => t.name)},
	tags: {get: (c) => c.tags.map((t) => t.name)}, type: {get: (c) => c.type.name},
	created_at: timeField((c) => c.createdAtMs), createdAt: timeField((c) => c.createdAtMs),
	updated_at: timeField((c) => c.updatedAtMs), updatedAt: timeField((c) => c.updatedAtMs),
};

function parsedMetadata(a) {
	if (a.metadata === null) return {};
	if (!a.parsedMetadata) a.parsedMetadata = JSON.parse(a.metadata);
	return a.parsedMetadata;
}

// Fields of a version as seen through one membership.
const VERSION_FIELDS = {
	id: {get: (m) => m.artifact.numericId}, version: {get: (m) => `v${m.versionIndex}`},
	versionIndex: {get: (m) => m.versionIndex}, version_index: {get: (m) => m.versionIndex},
	alias: {get: (m) => membershipAliases(m)}, aliases: {get: (m) => membershipAliases(m)},
	tag: {get: (m) => m.artifact.tags.map((t) => t.name)}, tags: {get: (m) => m.artifact.tags.map((t) => t.name)},
	state: {get: (m) => m.artifact.state}, digest: {get: (m) => m.artifact.digest},
	commitHash: {get: (m) => m.artifact.commitHash}, description: {get: (m) => m.artifact.description},
	size: {get: (m) => m.artifact.size}, artifact_size: {get: (m) => m.artifact.size},
	created_at: timeField((m) => m.createdAtMs), createdAt: timeField((m) => m.createdAtMs),
	updated_at: timeField((m) => Math.max(m.createdAtMs, m.artifact.updatedAtMs)),
	updatedAt: timeField((m) => Math.max(m.createdAtMs, m.artifact.updatedAtMs)),
};

function versionField(name) {
	if (Object.hasOwn(VERSION_FIELDS, name)) return VERSION_FIELDS[name];
	if (name.startsWith('metadata.')) {
		const segs = name.slice('metadata.'.length).split('.');
		return {get: (m) => lookupPath(parsedMetadata(m.artifact), segs)};
	}
	return null;
}

// Registry project filters: the fields the SDK documents for registries.
const REGISTRY_PROJECT_FIELDS = ['id', 'name', 'description', 'entity_id', 'created_at', 'updated_at'];

function selectCollections(colls, {filters, order, collectionTypes}) {
	const kinds = collectionTypes?.length ? new Set(collectionTypes) : null;
	const pred = compileFilter(filters, (n) => COLLECTION_FIELDS[n] ?? null);
	const cmp = compileOrder(order, (k) => COLLECTION_FIELDS[k]?.get ?? null, {defaultOrder: '-id', tie: (c) => c.id});
	return colls.filter((c) => (!kinds || kinds.has(c.kind)) && pred(c)).sort(cmp);
}

// Memberships in the order/filters of a version listing; newest first by default (in one
// collection: highest versionIndex first).
function selectMemberships(list, {filters, order}, defaultOrder = '-created_at') {
	const pred = compileFilter(filters, versionField);
	const cmp = compileOrder(order, (k) => versionField(k)?.get ?? null,
		{defaultOrder, tie: (m) => String(m.numericId).padStart(12, '0')});
	return list.filter(pred).sort(cmp);
}

// ---- connections ----------------------------------------------------------------------------------

function collectionConnection(ctx, colls, args) {
	return paginate(selectCollections(colls, args), args, ctx);
}

// VersionedArtifactConnection: edges carry the version within the collection.
function versionConnection(ctx, memberships, args) {
	const conn = paginate(selectMemberships(memberships, args, '-versionIndex'), args, ctx);
	conn.edges = conn.edges.map((e) => ({cursor: e.cursor, node: e.node.artifact, version: `v${e.node.versionIndex}`}));
	return conn;
}

// Artifacts of a run (inputs or outputs), filtered as versions of their source sequence.
function runArtifactConnection(ctx, artifacts, args, extra = {}) {
	const conn = paginate(selectMemberships((artifacts ?? []).map((a) => a.memberships[0]), args), args, ctx);
	conn.edges = conn.edges.map((e) => ({cursor: e.cursor, node: e.node.artifact, ...extra}));
	return conn;
}

function aliasNode(m, alias) {
	return {
		id: base64(`ArtifactAlias:${m.numericId}:${alias}`), alias, artifact: m.artifact,
		artifactCollection: m.collection, artifactCollectionName: m.collection.name,
	};
}

const aliasNodes = (m) => membershipAliases(m).map((a) => aliasNode(m, a));

function tagConnection(ctx, tags, args) {
	return paginate(tags, args, ctx);
}

// ---- files ----------------------------------------------------------------------------------------

function storedEntries(artifact) {
	if (!artifact.manifest.stored) artifact.manifest.stored = artifact.manifest.entries.filter((e) => e.hex);
	return artifact.manifest.stored;
}

// The API download route of a stored entry, for the version addressed through `coll`.
function downloadPath(artifact, coll, e) {
	if (artifact.manifest.layout === 'V1') return `/artifacts/${enc(coll.project.entity)}/${e.hex}`;
	const basename = e.path.slice(e.path.lastIndexOf('/') + 1);
	return `/artifactsV2/${enc(artifact.manifest.region ?? 'default')}/${enc(coll.project.entity)}/` +
		`${enc(coll.project.name)}/${enc(coll.name)}/${enc(e.birthArtifactID ?? '')}/${e.hex}/${enc(basename)}`;
}

function fileNode(artifact, coll, e) {
	return {
		id: base64(`File:artifact:${artifact.numericId}:${e.path}`), name: e.path, displayName: e.path,
		sizeBytes: e.size, md5: e.digest, digest: e.digest, mimetype: mimetypeOf(e.path),
		createdAtMs: artifact.createdAtMs, updatedAtMs: artifact.createdAtMs, storagePath: `${BLOB_DIR}/${e.hex}`,
		urlPath: downloadPath(artifact, coll, e), artifact,
	};
}

// files(names, after, first) of a version addressed through `coll`: stored entries by path.
function fileConnection(ctx, artifact, coll, args) {
	let list = storedEntries(artifact);
	if (args.names?.length) {
		const byPath = artifact.manifest.byPath;
		list = [...new Set(args.names)].map((n) => byPath.get(n)).filter((e) => e && e.hex);
	}
	return paginate(list, args, ctx, {key: (e) => e.path, node: (e) => fileNode(artifact, coll, e)});
}

function manifestNode(artifact) {
	const m = artifact.manifest;
	return {
		id: base64(`ArtifactManifest:${artifact.numericId}`), type: 'FULL', createdAt: time(m.createdAtMs),
		digest: artifact.digest, artifact,
		file: {
			id: base64(`File:manifest:${artifact.numericId}`), name: 'wandb_manifest.json', sizeBytes: m.size,
			md5: m.digest, mimetype: 'application/json', createdAtMs: m.createdAtMs, updatedAtMs: m.createdAtMs,
			storagePath: m.storagePath,
		},
	};
}

// ---- lookups --------------------------------------------------------------------------------------

function visibleArtifact(ctx, artifact) {
	return artifact && visibleMemberships(ctx.store, ctx.user, artifact).length ? artifact : null;
}

// The collection through which a version is addressed when no collection is given: its sequence
// if visible, else its first visible collection.
function addressedCollection(ctx, artifact) {
	if (canSee(ctx, artifact.sequence)) return artifact.sequence;
	return visibleMemberships(ctx.store, ctx.user, artifact)[0]?.collection ?? null;
}

function typeCollections(project, type) {
	return [...projectArtifacts(project).collections.values()].filter((c) => c.type === type);
}

// Collections of the projects of an entity the user can see, selected by project filters.
function entityCollections(ctx, entityName, projectFilters) {
	const {store, user} = ctx;
	if (!store.visibleEntity(user, entityName)) return null;
	const pred = compileFilter(projectFilters, projectFieldOf(store, REGISTRY_PROJECT_FIELDS));
	return store.projectsOf(user, entityName).filter(pred).flatMap((p) => [...projectArtifacts(p).collections.values()]);
}

// ---- resolvers ------------------------------------------------------------------------------------

const collectionFields = {
	createdAt: (c) => time(c.createdAtMs),
	updatedAt: (c) => time(c.updatedAtMs),
	defaultArtifactType: (c) => c.type,
	state: () => 'READY',
	aliases: (c, args, ctx) => paginate(c.memberships.flatMap(aliasNodes), args, ctx),
	artifactMembership: (c, {aliasName}) => findMembership(c, aliasName),
	artifactMemberships: (c, args, ctx) => paginate(selectMemberships(c.memberships, {}, '-versionIndex'), args, ctx),
	artifacts: (c, args, ctx) => versionConnection(ctx, c.memberships, args),
	tags: (c, args, ctx) => tagConnection(ctx, c.tags, args),
	triggers: () => emptyConnection(),
	artifactActions: () => emptyConnection(),
	artifactCollectionActions: () => emptyConnection(),
	aliasActionHistory: () => emptyConnection(),
};

export const resolvers = {
	Query: {
		artifact: (_, {id}, ctx) => visibleArtifact(ctx, artifactModel(ctx.store).artifacts.get(id)),
		artifactCollection: (_, {id}, ctx) => visibleColl(ctx, artifactModel(ctx.store).collections.get(id)),
		artifactSequence: (_, {id}, ctx) => {
			const c = visibleColl(ctx, artifactModel(ctx.store).collections.get(id));
			return c?.kind === 'SEQUENCE' ? c : null;
		},
	},

	Project: {
		artifactTypes: (p, args, ctx) => paginate([...projectArtifacts(p).types.values()], args, ctx),
		artifactType: (p, {name}) => projectArtifacts(p).types.get(name) ?? null,
		artifactCollections: (p, args, ctx) => collectionConnection(ctx, [...projectArtifacts(p).collections.values()], args),
		artifactCollection: (p, {name}) => projectArtifacts(p).collections.get(name) ?? null,
		artifactCollectionMembership: (p, {name}) => membershipByName(p, name),
		artifact: (p, {name}) => membershipByName(p, name)?.artifact ?? null,
		allowAllArtifactTypesInRegistry: (p) => Boolean(p.registry?.allowAllArtifactTypes),
	},

	ArtifactType: {
		createdAt: (t) => time(t.createdAtMs),
		artifactCollections: (t, args, ctx) => collectionConnection(ctx, typeCollections(t.project, t), args),
		artifactCollection: (t, {name}) => {
			const c = projectArtifacts(t.project).collections.get(name);
			return c?.type === t ? c : null;
		},
		artifactSequence: (t, {name}) => {
			const c = projectArtifacts(t.project).collections.get(name);
			return c?.type === t && c.kind === 'SEQUENCE' ? c : null;
		},
		artifactSequences: (t, args, ctx) => collectionConnection(ctx, typeCollections(t.project, t),
			{...args, collectionTypes: ['SEQUENCE']}),
		artifact: (t, {name}) => {
			const c = projectArtifacts(t.project).collections.get(splitMembershipName(name)[0]);
			return c?.type === t ? membershipByName(t.project, name)?.artifact ?? null : null;
		},
	},

	ArtifactCollection: {
		__resolveType: (c) => c.__typename,
	},
	ArtifactSequence: {
		...collectionFields,
		latestArtifact: (c) => c.memberships[c.memberships.length - 1]?.artifact ?? null,
	},
	ArtifactPortfolio: collectionFields,

	ArtifactCollectionMembership: {
		aliases: (m) => aliasNodes(m),
		artifactCollection: (m) => m.collection,
		commitHash: (m) => m.artifact.commitHash,
		createdAt: (m) => time(m.createdAtMs),
		files: (m, args, ctx) => fileConnection(ctx, m.artifact, m.collection, args),
	},

	Artifact: {
		artifactSequence: (a) => a.sequence,
		artifactType: (a) => a.type,
		createdAt: (a) => time(a.createdAtMs),
		updatedAt: (a) => time(a.updatedAtMs),
		versionIndex: (a, {artifactCollectionName}, ctx) => {
			if (!artifactCollectionName) return a.memberships[0].versionIndex;
			const m = visibleMemberships(ctx.store, ctx.user, a).find((x) => x.collection.name === artifactCollectionName);
			return m ? m.versionIndex : null;
		},
		aliases: (a, {artifactCollectionName}, ctx) => visibleMemberships(ctx.store, ctx.user, a)
			.filter((m) => !artifactCollectionName || m.collection.name === artifactCollectionName).flatMap(aliasNodes),
		artifactCollections: (a, args, ctx) => paginate(visibleMemberships(ctx.store, ctx.user, a).map((m) => m.collection), args, ctx),
		artifactMemberships: (a, args, ctx) => paginate(visibleMemberships(ctx.store, ctx.user, a), args, ctx),
		commitHash: (a) => a.commitHash,
		currentManifest: (a) => manifestNode(a),
		files: (a, args, ctx) => {
			const coll = addressedCollection(ctx, a);
			return coll ? fileConnection(ctx, a, coll, args) : emptyConnection();
		},
		// URLs for the given manifest entries (stored ones only); an entry that is not a stored entry
		// of this version (unknown path, other digest) is left out.
		filesByManifestEntries: (a, {storageLayout, entries}, ctx) => {
			if (storageLayout !== 'V1' && storageLayout !== 'V2') throw new Error(`unknown storageLayout ${JSON.stringify(storageLayout)}`);
			const coll = addressedCollection(ctx, a);
			const picked = new Set();
			for (const x of entries ?? []) {
				const e = x.ref ? null : a.manifest.byPath.get(x.name);
				if (e && e.hex && e.digest === x.digest) picked.add(e);
			}
			const list = [...picked];
			return paginate(list, {}, {pageCap: Math.max(1, list.length)}, {key: (e) => e.path, node: (e) => fileNode(a, coll, e)});
		},
		createdBy: (a, _, {store, user}) => (a.createdBy && store.canSeeProject(user, a.createdBy.project) ?
			a.createdBy : store.ownerOf(a.sequence.project.entity)),
		usedBy: (a, args, ctx) => paginate(a.usedBy.filter((r) => ctx.store.canSeeProject(ctx.user, r.project)), args, ctx),
		usedByApprox: (a, args, ctx) => paginate(a.usedBy.filter((r) => ctx.store.canSeeProject(ctx.user, r.project)), args, ctx),
		usedCount: (a) => a.usedBy.length,
		labels: () => null,
	},

	Initiator: {
		__resolveType: (obj) => (obj.projectName !== undefined ? 'Run' : 'User'),
	},

	Run: {
		outputArtifacts: (r, args, ctx) => runArtifactConnection(ctx, r.outputArtifacts, args),
		inputArtifacts: (r, args, ctx) => runArtifactConnection(ctx, r.inputArtifacts, args, {usedAs: []}),
	},

	Entity: {
		artifactCollections: (e, args, ctx) => {
			const colls = entityCollections(ctx, e.name, args.projectFilters);
			return colls ? collectionConnection(ctx, colls, args) : null;
		},
		artifactMemberships: (e, args, ctx) => {
			const colls = entityCollections(ctx, e.name, args.projectFilters);
			if (!colls) return null;
			const memberships = selectCollections(colls, {filters: args.collectionFilters}).flatMap((c) => c.memberships);
			return paginate(selectMemberships(memberships, args), args, ctx);
		},
	},

	Organization: {
		artifactCollections: (o, args, ctx) => {
			const colls = entityCollections(ctx, o.orgEntity, null);
			return colls ? collectionConnection(ctx, colls, args) : null;
		},
	},
};
