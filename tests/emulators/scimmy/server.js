// A SCIM 2.0 test server for accord's end-to-end tests: the npm packages
// scimmy (RFC 7643/7644 resources, filters, PatchOp, ListResponse) and
// scimmy-routers (their Express routers), with User and Group resources
// backed by an in-memory store, a request log, injected faults and a
// control API under /_emulator/.  Loopback only.  See README.md.
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";

const ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";

// --- options -----------------------------------------------------------------

function usage(msg) {
	if (msg) process.stderr.write(`server.js: ${msg}\n`);
	process.stderr.write("usage: node server.js [--port N] [--port-file F] [--parent-pid PID] " +
	    "[--seed F.json] [--log F.jsonl] [--token T] [--base /scim/v2] [--raw-filters] [--patch-204] [-v]\n");
	process.exit(2);
}

const opt = {port: 0, portFile: null, parentPid: null, seed: null, log: null, token: null,
    base: "/scim/v2", rawFilters: false, patchStatus: 0, verbose: false};
{
	const a = process.argv.slice(2);
	for (let i = 0; i < a.length; i++) {
		const need = () => {
			if (i + 1 >= a.length) usage(`${a[i]} needs a value`);
			return a[++i];
		};
		switch (a[i]) {
		case "--port": opt.port = Number(need()); break;
		case "--port-file": opt.portFile = need(); break;
		case "--parent-pid": opt.parentPid = Number(need()); break;
		case "--seed": opt.seed = need(); break;
		case "--log": opt.log = need(); break;
		case "--token": opt.token = need(); break;
		case "--base": opt.base = need(); break;
		case "--raw-filters": opt.rawFilters = true; break;
		case "--patch-204": opt.patchStatus = 204; break;
		case "-v": case "--verbose": opt.verbose = true; break;
		case "-h": case "--help": usage();
		default: usage(`unknown option ${a[i]}`);
		}
	}
	if (!Number.isInteger(opt.port) || opt.port < 0 || opt.port > 65535) usage("bad --port");
	if (opt.parentPid !== null && !(opt.parentPid > 0)) usage("bad --parent-pid");
	opt.base = "/" + opt.base.replace(/^\/+|\/+$/g, "");
	if (opt.base === "/") usage("--base must not be /");
}

// --- the store ----------------------------------------------------------------
// users: id -> {id, userName, displayName, active, emails, created, lastModified}
// groups: id -> {id, displayName, members: [{value, display, type}], created, lastModified}
// Maps keep insertion order, which is the order of every list.

const store = {users: new Map(), groups: new Map()};

const now = () => new Date().toISOString();
const newId = () => crypto.randomUUID();

class SeedError extends Error {}

function memberOf(ref) {
	// A stored member {value, display, type} for a member reference.
	const u = store.users.get(ref);
	if (u) return {value: u.id, display: u.displayName ?? u.userName, type: "User"};
	const g = store.groups.get(ref);
	if (g) return {value: g.id, display: g.displayName, type: "Group"};
	return null;
}

function cleanEmails(emails) {
	if (emails === undefined || emails === null) return [];
	if (!Array.isArray(emails)) throw new SeedError("emails must be a list");
	return emails.map(e => {
		if (typeof e === "string") return {value: e, type: "work", primary: false};
		if (!e || typeof e.value !== "string") throw new SeedError("an email needs a string value");
		const o = {value: e.value};
		if (e.type !== undefined) o.type = String(e.type);
		if (e.primary !== undefined) o.primary = !!e.primary;
		return o;
	});
}

// Replace the whole state with a seed document (also PUT /_emulator/state).
function loadState(doc) {
	if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new SeedError("the state must be an object");
	const users = doc.users ?? [], groups = doc.groups ?? [];
	if (!Array.isArray(users) || !Array.isArray(groups)) throw new SeedError("users and groups must be lists");
	const nu = new Map(), ng = new Map();
	const names = new Set(), gnames = new Set();
	const t = now();
	for (const u of users) {
		if (!u || typeof u.userName !== "string" || !u.userName)
			throw new SeedError(`a user needs a userName: ${JSON.stringify(u)}`);
		const id = u.id === undefined || u.id === null ? newId() : String(u.id);
		if (nu.has(id)) throw new SeedError(`duplicate user id ${id}`);
		if (names.has(u.userName.toLowerCase())) throw new SeedError(`duplicate userName ${u.userName}`);
		names.add(u.userName.toLowerCase());
		const o = {id, userName: u.userName};
		if (u.displayName !== undefined && u.displayName !== null) o.displayName = String(u.displayName);
		o.active = u.active === undefined ? true : !!u.active;
		o.emails = cleanEmails(u.emails);
		o.created = u.created ?? t;
		o.lastModified = u.lastModified ?? o.created;
		nu.set(id, o);
	}
	// Group ids first, so that members may name groups listed later.
	const gl = [];
	for (const g of groups) {
		if (!g || typeof g.displayName !== "string" || !g.displayName)
			throw new SeedError(`a group needs a displayName: ${JSON.stringify(g)}`);
		const id = g.id === undefined || g.id === null ? newId() : String(g.id);
		if (ng.has(id) || nu.has(id)) throw new SeedError(`duplicate id ${id}`);
		if (gnames.has(g.displayName.toLowerCase())) throw new SeedError(`duplicate group ${g.displayName}`);
		gnames.add(g.displayName.toLowerCase());
		const o = {id, displayName: g.displayName, members: [], created: g.created ?? t};
		o.lastModified = g.lastModified ?? o.created;
		ng.set(id, o);
		gl.push([o, g.members ?? []]);
	}
	const byName = new Map([...nu.values()].map(u => [u.userName, u]));
	const byGroup = new Map([...ng.values()].map(g => [g.displayName, g]));
	for (const [o, members] of gl) {
		if (!Array.isArray(members)) throw new SeedError(`members of ${o.displayName} must be a list`);
		for (const m of members) {
			let ref = null;
			if (typeof m === "string") ref = byName.get(m) ?? null;
			else if (m && m.userName !== undefined) ref = byName.get(m.userName) ?? null;
			else if (m && m.group !== undefined) ref = byGroup.get(m.group) ?? null;
			else if (m && m.value !== undefined) ref = nu.get(String(m.value)) ?? ng.get(String(m.value)) ?? null;
			if (!ref) throw new SeedError(`group ${o.displayName}: unknown member ${JSON.stringify(m)}`);
			if (o.members.some(x => x.value === ref.id)) continue;
			o.members.push(ref.userName !== undefined
			    ? {value: ref.id, display: ref.displayName ?? ref.userName, type: "User"}
			    : {value: ref.id, display: ref.displayName, type: "Group"});
		}
	}
	store.users = nu;
	store.groups = ng;
}

function dumpState() {
	const u = [...store.users.values()].map(x => ({
		id: x.id, userName: x.userName, ...(x.displayName !== undefined ? {displayName: x.displayName} : {}),
		active: x.active, emails: x.emails, created: x.created, lastModified: x.lastModified}));
	const g = [...store.groups.values()].map(x => ({
		id: x.id, displayName: x.displayName, members: x.members.map(m => ({...m})),
		created: x.created, lastModified: x.lastModified}));
	return {users: u, groups: g};
}

// --- scimmy resources ------------------------------------------------------------

const meta = (x, type) => ({resourceType: type, created: x.created, lastModified: x.lastModified});

function userOut(u) {
	const o = {id: u.id, userName: u.userName, active: u.active, meta: meta(u, "User")};
	if (u.displayName !== undefined) o.displayName = u.displayName;
	if (u.emails.length) o.emails = u.emails.map(e => ({...e}));
	return o;
}

function groupOut(g) {
	return {id: g.id, displayName: g.displayName, members: g.members.map(m => ({...m})), meta: meta(g, "Group")};
}

const notFound = (id) => new SCIMMY.Types.Error(404, null, `Resource ${id} not found`);

// egress: every matching resource in store order; scimmy's ListResponse
// then applies startIndex/count (and sortBy) itself.
function egress(kind, out) {
	return async (resource, ctx) => {
		const map = store[kind];
		if (resource.id !== undefined) {
			const x = map.get(resource.id);
			if (!x) throw notFound(resource.id);
			return out(x);
		}
		const all = [...map.values()].map(out);
		return resource.filter ? literalFilter(resource.filter, ctx).match(all) : all;
	};
}

// scimmy 1.3.5's filter tokeniser ends a string literal at the first `"`
// even after a backslash, and keeps backslashes as they are, whereas RFC
// 7644 §3.4.2.2 gives string literals JSON's syntax.  Unless --raw-filters
// is given, a GET's filter has each literal holding a backslash replaced
// by a plain placeholder literal before scimmy parses it (hideLiterals);
// the egress handler then rebuilds scimmy's parsed filter with the decoded
// values in their places, and scimmy's own Filter does the matching.
const PLACEHOLDER = (n) => `__scimmy_emulator_literal_${n}__`;

function hideLiterals(filter) {
	const lits = [];
	const out = filter.replace(/"((?:[^"\\]|\\.)*)"/g, (whole, body) => {
		if (!body.includes("\\")) return whole;
		let v;
		try {
			v = JSON.parse(whole);
		} catch (e) {
			return whole;	/* a bad escape: scimmy answers for it */
		}
		lits.push(v);
		return `"${PLACEHOLDER(lits.length - 1)}"`;
	});
	return {filter: out, lits};
}

function literalFilter(filter, ctx) {
	const lits = ctx?.literals;
	if (!lits || !lits.length) return filter;
	const put = (x) => {
		if (typeof x === "string") {
			const m = /^__scimmy_emulator_literal_(\d+)__$/.exec(x);
			return m ? lits[Number(m[1])] : x;
		}
		if (Array.isArray(x)) return x.map(put);
		if (x && typeof x === "object") return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, put(v)]));
		return x;
	};
	try {
		return new SCIMMY.Types.Filter(put(JSON.parse(JSON.stringify([...filter]))));
	} catch (e) {
		throw new SCIMMY.Types.Error(400, "invalidFilter", e.message);
	}
}

function plain(instance) {
	return JSON.parse(JSON.stringify(instance));
}

SCIMMY.Resources.declare(SCIMMY.Resources.User, {
	egress: egress("users", userOut),
	async ingress(resource, instance) {
		const d = plain(instance);
		const old = resource.id !== undefined ? store.users.get(resource.id) : null;
		if (resource.id !== undefined && !old) throw notFound(resource.id);
		if (typeof d.userName !== "string" || !d.userName)
			throw new SCIMMY.Types.Error(400, "invalidValue", "Required attribute 'userName' is missing");
		for (const u of store.users.values()) {
			if (u !== old && u.userName.toLowerCase() === d.userName.toLowerCase())
				throw new SCIMMY.Types.Error(409, "uniqueness", `userName '${d.userName}' is already taken`);
		}
		const t = now();
		const u = old ?? {id: newId(), created: t};
		u.userName = d.userName;
		if (d.displayName !== undefined) u.displayName = d.displayName;
		else delete u.displayName;
		u.active = d.active === undefined ? true : !!d.active;
		u.emails = cleanEmails(d.emails);
		u.lastModified = t;
		if (!old) store.users.set(u.id, u);
		for (const g of store.groups.values())
			for (const m of g.members)
				if (m.value === u.id) m.display = u.displayName ?? u.userName;
		return userOut(u);
	},
	async degress(resource) {
		if (!store.users.delete(resource.id)) throw notFound(resource.id);
		for (const g of store.groups.values()) g.members = g.members.filter(m => m.value !== resource.id);
	}
});

SCIMMY.Resources.declare(SCIMMY.Resources.Group, {
	egress: egress("groups", groupOut),
	async ingress(resource, instance) {
		const d = plain(instance);
		const old = resource.id !== undefined ? store.groups.get(resource.id) : null;
		if (resource.id !== undefined && !old) throw notFound(resource.id);
		if (typeof d.displayName !== "string" || !d.displayName)
			throw new SCIMMY.Types.Error(400, "invalidValue", "Required attribute 'displayName' is missing");
		for (const g of store.groups.values()) {
			if (g !== old && g.displayName.toLowerCase() === d.displayName.toLowerCase())
				throw new SCIMMY.Types.Error(409, "uniqueness", `displayName '${d.displayName}' is already taken`);
		}
		const members = [];
		for (const m of d.members ?? []) {
			const ref = m && m.value !== undefined ? memberOf(String(m.value)) : null;
			if (!ref)
				throw new SCIMMY.Types.Error(400, "invalidValue",
				    `Member value '${m?.value}' is not the id of a User or Group`);
			if (old && ref.value === old.id)
				throw new SCIMMY.Types.Error(400, "invalidValue", "A group cannot be a member of itself");
			if (!members.some(x => x.value === ref.value)) members.push(ref);
		}
		const t = now();
		const g = old ?? {id: newId(), created: t};
		g.displayName = d.displayName;
		g.members = members;
		g.lastModified = t;
		if (!old) store.groups.set(g.id, g);
		return groupOut(g);
	},
	async degress(resource) {
		if (!store.groups.delete(resource.id)) throw notFound(resource.id);
		for (const g of store.groups.values()) g.members = g.members.filter(m => m.value !== resource.id);
	}
});

// --- log and faults --------------------------------------------------------------

let log = [];
let faults = [];

function logWrite(entry) {
	log.push(entry);
	if (opt.log) fs.appendFileSync(opt.log, JSON.stringify(entry) + "\n");
}

function rawHeaders(req) {
	const h = {};
	for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
		const k = req.rawHeaders[i], v = req.rawHeaders[i + 1];
		h[k] = k in h ? `${h[k]}, ${v}` : v;
	}
	return h;
}

function queryDict(url) {
	const q = {};
	const i = url.indexOf("?");
	if (i < 0) return q;
	for (const [k, v] of new URLSearchParams(url.slice(i + 1))) {
		if (k in q) q[k] = [].concat(q[k], v);
		else q[k] = v;
	}
	return q;
}

function errorBody(status, scimType, detail) {
	const b = {schemas: [ERROR_SCHEMA], status: String(status)};
	if (scimType) b.scimType = scimType;
	if (detail) b.detail = detail;
	return b;
}

function sendError(res, status, scimType, detail, extra = {}) {
	res.status(status);
	for (const [k, v] of Object.entries(extra)) res.setHeader(k, v);
	res.setHeader("Content-Type", "application/scim+json; charset=utf-8");
	res.end(JSON.stringify(errorBody(status, scimType, detail)));
}

function faultFor(req, pathname, qs) {
	for (const f of faults) {
		if (f.method && f.method.toUpperCase() !== req.method) continue;
		if (f.path && !new RegExp(f.path).test(pathname)) continue;
		if (f.query && !new RegExp(f.query).test(qs)) continue;
		if (f.match && !new RegExp(f.match).test(pathname + (qs ? "?" + qs : ""))) continue;
		if (f.times !== undefined && f.times !== null) {
			f.times -= 1;
			if (f.times <= 0) faults = faults.filter(x => x !== f);
		}
		return f;
	}
	return null;
}

function checkFault(f) {
	if (!f || typeof f !== "object" || Array.isArray(f)) throw new SeedError("a fault must be an object");
	const st = f.status ?? 500;
	if (!Number.isInteger(st) || st < 100 || st > 599) throw new SeedError(`bad fault status ${f.status}`);
	for (const k of ["path", "query", "match"]) {
		if (f[k] !== undefined && f[k] !== null) {
			try { new RegExp(f[k]); } catch (e) { throw new SeedError(`bad ${k} regex: ${e.message}`); }
		}
	}
	const o = {...f, status: st};
	if (o.times === undefined) o.times = 1;
	return o;
}

// --- the app --------------------------------------------------------------------------

const app = express();
app.disable("x-powered-by");
app.set("etag", false);

// Bodies are read here, once, so that the log sees them; JSON ones
// (application/json, application/scim+json) are parsed for scimmy.
app.use(express.raw({type: () => true, limit: "10mb"}));
app.use((req, res, next) => {
	const raw = Buffer.isBuffer(req.body) && req.body.length ? req.body.toString("utf8") : null;
	req.rawBody = raw;
	req.jsonError = null;
	let parsed;
	if (raw !== null) {
		try { parsed = JSON.parse(raw); } catch (e) { req.jsonError = e.message; }
	}
	req.logBody = raw === null ? null : (req.jsonError ? raw : parsed);
	const ct = (req.headers["content-type"] || "").split(";")[0].trim().toLowerCase();
	const isJson = ct === "application/json" || ct === "application/scim+json";
	req.body = isJson && raw !== null && !req.jsonError ? parsed : {};
	if (isJson && req.jsonError)
		req.badJson = true;
	next();
});

// --- control API (no auth, not logged) ---
const ctl = express.Router();
const ctlJson = (res, status, body) => res.status(status).type("application/json").send(JSON.stringify(body));
const ctlBody = (req) => {
	if (req.rawBody === null) return {};
	if (req.jsonError) throw new SeedError(`bad JSON: ${req.jsonError}`);
	return JSON.parse(req.rawBody);
};
ctl.get("/state", (req, res) => ctlJson(res, 200, dumpState()));
ctl.put("/state", (req, res) => {
	try {
		loadState(ctlBody(req));
	} catch (e) {
		return ctlJson(res, 400, {error: e.message});
	}
	ctlJson(res, 200, dumpState());
});
ctl.get("/log", (req, res) => ctlJson(res, 200, log));
ctl.delete("/log", (req, res) => {
	log = [];
	if (opt.log) fs.writeFileSync(opt.log, "");
	ctlJson(res, 200, {ok: true});
});
const config = () => ({raw_filters: opt.rawFilters, patch_status: opt.patchStatus || null});
ctl.get("/config", (req, res) => ctlJson(res, 200, config()));
ctl.put("/config", (req, res) => {
	try {
		const b = ctlBody(req);
		for (const k of Object.keys(b))
			if (!["raw_filters", "patch_status"].includes(k)) throw new SeedError(`unknown setting ${k}`);
		if ("patch_status" in b && ![null, 0, 204].includes(b.patch_status))
			throw new SeedError("patch_status is null or 204");
		if ("raw_filters" in b) opt.rawFilters = !!b.raw_filters;
		if ("patch_status" in b) opt.patchStatus = b.patch_status || 0;
	} catch (e) {
		return ctlJson(res, 400, {error: e.message});
	}
	ctlJson(res, 200, config());
});
ctl.get("/faults", (req, res) => ctlJson(res, 200, {faults}));
ctl.post("/faults", (req, res) => {
	try {
		const b = ctlBody(req);
		const list = Array.isArray(b.faults) ? b.faults : [b];
		faults.push(...list.map(checkFault));
	} catch (e) {
		return ctlJson(res, 400, {error: e.message});
	}
	ctlJson(res, 200, {faults});
});
ctl.delete("/faults", (req, res) => {
	faults = [];
	ctlJson(res, 200, {faults});
});
ctl.use((req, res) => ctlJson(res, 404, {error: `no control endpoint ${req.method} ${req.path}`}));
app.use("/_emulator", ctl);

// --- every other request: logged, then faults, then SCIM ---
app.use((req, res, next) => {
	const t = Date.now();
	const url = req.originalUrl;
	const pathname = url.split("?")[0];
	const qs = url.includes("?") ? url.slice(url.indexOf("?") + 1) : "";
	const entry = {ts: new Date(t).toISOString(), t: t / 1000, method: req.method, path: pathname,
	    query: queryDict(url), headers: rawHeaders(req), body: req.logBody, status: null, fault: null};
	res.on("finish", () => {
		entry.status = res.statusCode;
		entry.ms = Date.now() - t;
		logWrite(entry);
		if (opt.verbose) process.stderr.write(`${req.method} ${url} -> ${res.statusCode}\n`);
	});
	const f = faultFor(req, pathname, qs);
	if (f) {
		entry.fault = f.status;
		const extra = {};
		if (f.retry_after !== undefined && f.retry_after !== null) extra["Retry-After"] = String(f.retry_after);
		const answer = () => {
			if (f.body !== undefined) {
				res.status(f.status);
				for (const [k, v] of Object.entries(extra)) res.setHeader(k, v);
				res.type("application/scim+json").send(typeof f.body === "string" ? f.body : JSON.stringify(f.body));
			} else {
				sendError(res, f.status, f.scimType ?? null,
				    f.detail ?? `Injected fault: HTTP ${f.status}`, extra);
			}
		};
		if (f.delay_ms) setTimeout(answer, f.delay_ms);
		else answer();
		return;
	}
	if (req.badJson && pathname.startsWith(opt.base))
		return sendError(res, 400, "invalidSyntax", `Request body is not valid JSON: ${req.jsonError}`);
	next();
});

app.use(opt.base, (req, res, next) => {
	// --patch-204: a successful PATCH answers 204 No Content, the other
	// answer RFC 7644 §3.5.2 allows (scimmy sends 200 with the resource
	// when something changed, 204 when nothing did).
	if (req.method === "PATCH" && opt.patchStatus) {
		const send = res.send.bind(res);
		res.send = (body) => {
			if (res.statusCode === 200 || res.statusCode === 204) {
				res.status(opt.patchStatus);
				if (opt.patchStatus === 204) return res.end();
			}
			return send(body);
		};
	}
	req.literals = [];
	if (!opt.rawFilters && req.method === "GET" && typeof req.query.filter === "string") {
		const h = hideLiterals(req.query.filter);
		req.query.filter = h.filter;
		req.literals = h.lits;
	}
	next();
});

app.use(opt.base, new SCIMMYRouters({
	type: "bearer",
	handler: (req) => {
		if (opt.token === null) return "anonymous";
		const a = req.header("Authorization");
		if (a === undefined || a !== `Bearer ${opt.token}`) {
			req.res.setHeader("WWW-Authenticate", 'Bearer realm="scim"');
			throw new Error(a === undefined ? "Authorization header required" : "Invalid bearer token");
		}
		return "accord";
	},
	context: (req) => ({literals: req.literals}),
	baseUri: (req) => (req.headers.host ? `http://${req.headers.host}` : undefined)
}));

app.use((req, res) => sendError(res, 404, null, `No such endpoint: ${req.method} ${req.path}`));
// eslint-disable-next-line no-unused-vars
app.use((err, req, res, next) => {
	process.stderr.write(`server.js: ${err.stack || err}\n`);
	if (!res.headersSent) sendError(res, err.status ?? 500, null, String(err.message || err));
});

// --- start ----------------------------------------------------------------------------

if (opt.seed) {
	try {
		loadState(JSON.parse(fs.readFileSync(opt.seed, "utf8")));
	} catch (e) {
		process.stderr.write(`server.js: seed ${opt.seed}: ${e.message}\n`);
		process.exit(2);
	}
}
if (opt.log) fs.writeFileSync(opt.log, "", {flag: "a"});

const server = app.listen(opt.port, "127.0.0.1", () => {
	const port = server.address().port;
	if (opt.portFile) {
		const tmp = path.join(path.dirname(opt.portFile), `.${path.basename(opt.portFile)}.${process.pid}.tmp`);
		fs.writeFileSync(tmp, `${port}\n`);
		fs.renameSync(tmp, opt.portFile);
	}
	if (opt.verbose) process.stderr.write(`server.js: listening on 127.0.0.1:${port}${opt.base}\n`);
});
server.on("error", (e) => {
	process.stderr.write(`server.js: ${e.message}\n`);
	process.exit(1);
});

const stop = () => process.exit(0);
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
if (opt.parentPid) {
	setInterval(() => {
		try {
			process.kill(opt.parentPid, 0);
		} catch (e) {
			if (e.code !== "EPERM") process.exit(0);
		}
	}, 500).unref();
}
