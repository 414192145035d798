-- SPDX-License-Identifier: GPL-2.0-only
-- The omvm dissector for Wireshark: virtio-om messages captured by omtrace
-- (pcapng, link-layer type LINKTYPE_USER0 = 147; docs/tracing.md), and the
-- frames of relay links between omhostds, a DATA frame's message as any. The
-- tables above this part are generated from the protocol header at build
-- time; this part only reads them, so every type of the header is decoded
-- by its name and its fields by their kinds.
--
--   tshark -X lua_script:build/host/trace/omvm.lua -r capture.pcapng
--   wireshark -X lua_script:build/host/trace/omvm.lua capture.pcapng

local omvm = Proto("omvm", "omvm virtio-om message")

local type_names = {}
for value, t in pairs(omvm_types) do
	type_names[value] = t.name
end

local pf = {
	trace_version = ProtoField.uint16("omvm.trace.version", "Pseudo-header version"),
	trace_size = ProtoField.uint16("omvm.trace.size", "Pseudo-header size"),
	event = ProtoField.uint32("omvm.trace.event", "Event", base.DEC, OMVM_EVENTS),
	caplen = ProtoField.uint32("omvm.trace.caplen", "Payload bytes captured"),
	missed = ProtoField.uint64("omvm.trace.missed", "Messages missed here"),
	missed_total = ProtoField.uint64("omvm.trace.missed_total", "Messages missed in all"),
	version = ProtoField.uint16("omvm.version", "Version"),
	type = ProtoField.uint16("omvm.type", "Type", base.HEX, type_names),
	type_name = ProtoField.string("omvm.type_name", "Type name"),
	flags = ProtoField.uint32("omvm.flags", "Flags", base.HEX),
	flag_reply = ProtoField.bool("omvm.flags.reply", "Reply", 32, nil, OMVM_F_REPLY),
	src_node = ProtoField.uint32("omvm.src_node", "Source node"),
	dst_node = ProtoField.uint32("omvm.dst_node", "Destination node"),
	src_pid = ProtoField.uint32("omvm.src_pid", "Source pid"),
	dst_pid = ProtoField.uint32("omvm.dst_pid", "Destination pid"),
	seq = ProtoField.uint64("omvm.seq", "Sequence number"),
	reply_to = ProtoField.uint64("omvm.reply_to", "Reply to"),
	len = ProtoField.uint32("omvm.len", "Payload length"),
	reserved = ProtoField.uint32("omvm.reserved", "Reserved"),
	payload = ProtoField.bytes("omvm.payload", "Payload"),
	decoded = ProtoField.string("omvm.decoded", "Decoded fields"),
	-- Relay links' frames (docs/protocol.md, "Relay links").
	link_peer = ProtoField.string("omvm.link.peer", "Peer relay"),
	link_version = ProtoField.uint16("omvm.link.version", "Frame version"),
	link_type = ProtoField.uint16("omvm.link.type", "Frame type", base.HEX, omvm_link_types),
	link_type_name = ProtoField.string("omvm.link.type_name", "Frame type name"),
	link_len = ProtoField.uint32("omvm.link.len", "Frame payload length"),
	link_seq = ProtoField.uint64("omvm.link.seq", "Frame sequence number"),
	link_ack = ProtoField.uint64("omvm.link.ack", "Acknowledged up to"),
	link_flags = ProtoField.uint32("omvm.link.flags", "Frame flags", base.HEX),
	link_reserved = ProtoField.uint32("omvm.link.reserved", "Frame reserved"),
	link_payload = ProtoField.bytes("omvm.link.payload", "Frame payload"),
	link_why = ProtoField.string("omvm.link.why", "Why the link was cut"),
	link_decoded = ProtoField.string("omvm.link.decoded", "Decoded frame"),
	hello_magic = ProtoField.uint32("omvm.link.hello.magic", "Magic", base.HEX),
	hello_max_payload = ProtoField.uint32("omvm.link.hello.max_payload", "Largest payload"),
	hello_session = ProtoField.uint64("omvm.link.hello.session", "Session", base.HEX),
	hello_peer_session = ProtoField.uint64("omvm.link.hello.peer_session", "Peer's session", base.HEX),
	hello_tx_base = ProtoField.uint64("omvm.link.hello.tx_base", "Resends after"),
	hello_first = ProtoField.uint32("omvm.link.hello.first_node", "First node"),
	hello_last = ProtoField.uint32("omvm.link.hello.last_node", "Last node"),
	node_node = ProtoField.uint32("omvm.link.node.node", "Node"),
	node_state = ProtoField.uint16("omvm.link.node.state", "State", base.DEC, OMVM_LINK_NODE_STATES),
	node_reason = ProtoField.uint16("omvm.link.node.reason", "Reason", base.DEC, omvm_node_reasons),
	credit_count = ProtoField.uint32("omvm.link.credit.count", "Entries"),
	credit_node = ProtoField.uint32("omvm.link.credit.node", "Node"),
	credit_buf_alloc = ProtoField.uint32("omvm.link.credit.buf_alloc", "Bytes held for it"),
	credit_fwd_cnt = ProtoField.uint32("omvm.link.credit.fwd_cnt", "Bytes taken for it"),
}

-- One field per (type, payload field): omvm.<type>.<field>, e.g. omvm.ping.cookie.
local signed_kinds = { SINT = true, RESULT = true }
local type_fields = {}
for value, fields in pairs(omvm_fields) do
	type_fields[value] = {}
	for i, f in ipairs(fields) do
		-- args[0] is omvm.syscall.args0
		local abbr = "omvm." .. string.lower(omvm_types[value].name) .. "." ..
			string.gsub(f.name, "[%[%]]", "")
		local field
		if f.kind == "STRING" then
			field = ProtoField.string(abbr, f.name)
		else
			local ctor = (signed_kinds[f.kind] and "int" or "uint") .. (f.size * 8)
			field = ProtoField[ctor](abbr, f.name, f.kind == "HEX" and base.HEX or base.DEC)
		end
		pf[abbr] = field
		type_fields[value][i] = field
	end
end
omvm.fields = pf

local ef = {
	malformed = ProtoExpert.new("omvm.malformed", "Malformed omvm record",
		expert.group.MALFORMED, expert.severity.ERROR),
	unknown = ProtoExpert.new("omvm.unknown_type", "Message type unknown to the protocol header",
		expert.group.UNDECODED, expert.severity.ERROR),
	missed = ProtoExpert.new("omvm.missed_here", "The capturing listener missed messages here",
		expert.group.SEQUENCE, expert.severity.WARN),
	undeliverable = ProtoExpert.new("omvm.undeliverable", "Dropped: destination node down",
		expert.group.SEQUENCE, expert.severity.NOTE),
}
omvm.experts = ef

local function type_label(value)
	local t = omvm_types[value]
	if t then
		return t.name
	end
	for _, r in ipairs(omvm_ranges) do
		if value >= r.first and value <= r.last then
			return string.format("%s:0x%04x", r.name, value)
		end
	end
	return string.format("0x%04x", value)
end

-- A STRING field: up to the first NUL, bytes other than printable ASCII
-- and space, quote and backslash as "." (as decode.c does).
local function string_text(range)
	local out = {}
	for i = 0, range:len() - 1 do
		local c = range(i, 1):uint()
		if c == 0 then
			break
		end
		if c > 32 and c < 127 and c ~= 34 and c ~= 92 then
			out[#out + 1] = string.char(c)
		else
			out[#out + 1] = "."
		end
	end
	return table.concat(out)
end

-- A field's value as text, as omtrace shows it (host/trace/decode.c).
local function field_text(f, range)
	if f.kind == "STRING" then
		return string_text(range)
	end
	local v
	if f.size == 8 then
		v = signed_kinds[f.kind] and range:le_int64() or range:le_uint64()
	else
		v = signed_kinds[f.kind] and range:le_int() or range:le_uint()
	end
	local function dec(x)
		if type(x) == "number" then
			return string.format("%d", x)
		end
		return tostring(x)
	end
	local function num(x)
		if type(x) == "number" then
			return x
		end
		return x:tonumber()
	end
	if f.kind == "HEX" then
		if f.size == 8 then
			return "0x" .. string.lower(v:tohex(16))
		end
		return string.format("0x%0" .. (2 * f.size) .. "x", v)
	elseif f.kind == "NODE_REASON" then
		return omvm_node_reasons[num(v)] or dec(v)
	elseif f.kind == "SYSCALL" then
		return omvm_syscalls[num(v)] or dec(v)
	elseif f.kind == "ERRNO" then
		return omvm_errnos[num(v)] or dec(v)
	elseif f.kind == "SIGNAL" then
		return omvm_signals[num(v)] or dec(v)
	elseif f.kind == "RESULT" then
		local n = num(v)
		if n < 0 and omvm_errnos[-n] then
			return "-" .. omvm_errnos[-n]
		end
		return dec(v)
	end
	return dec(v)
end

local function dissect_message(tvb, pinfo, tree, off, pseudo_caplen)
	local h = tree:add(omvm, tvb(off, OMVM_HDR_SIZE), "virtio-om header")
	local version = tvb(off, 2):le_uint()
	local value = tvb(off + 2, 2):le_uint()
	local flags = tvb(off + 4, 4):le_uint()
	local src, dst = tvb(off + 8, 4):le_uint(), tvb(off + 12, 4):le_uint()
	local seq = tvb(off + 24, 8):le_uint64()
	local reply_to = tvb(off + 32, 8):le_uint64()
	local len = tvb(off + 40, 4):le_uint()
	local t = omvm_types[value]
	local label = type_label(value)

	local vi = h:add_le(pf.version, tvb(off, 2))
	if version ~= OMVM_PROTOCOL_VERSION then
		vi:add_proto_expert_info(ef.malformed, "protocol version " .. version)
	end
	local ti = h:add_le(pf.type, tvb(off + 2, 2))
	h:add(pf.type_name, tvb(off + 2, 2), label)
	if not t then
		ti:add_proto_expert_info(ef.unknown, "type " .. label)
	end
	local fi = h:add_le(pf.flags, tvb(off + 4, 4))
	fi:add_le(pf.flag_reply, tvb(off + 4, 4))
	if bit32.band(flags, bit32.bnot(OMVM_F_ALL)) ~= 0 then
		fi:add_proto_expert_info(ef.malformed, "unknown flags")
	end
	h:add_le(pf.src_node, tvb(off + 8, 4))
	h:add_le(pf.dst_node, tvb(off + 12, 4))
	h:add_le(pf.src_pid, tvb(off + 16, 4))
	h:add_le(pf.dst_pid, tvb(off + 20, 4))
	h:add_le(pf.seq, tvb(off + 24, 8))
	h:add_le(pf.reply_to, tvb(off + 32, 8))
	local li = h:add_le(pf.len, tvb(off + 40, 4))
	local ri = h:add_le(pf.reserved, tvb(off + 44, 4))
	if tvb(off + 44, 4):le_uint() ~= 0 then
		ri:add_proto_expert_info(ef.malformed, "reserved field not zero")
	end
	if t and (len < t.min_len or (t.max_len ~= OMVM_LEN_ANY and len > t.max_len)) then
		li:add_proto_expert_info(ef.malformed, string.format("%s takes %d..%s payload bytes",
			t.name, t.min_len, t.max_len == OMVM_LEN_ANY and "max" or tostring(t.max_len)))
	end

	local poff = off + OMVM_HDR_SIZE
	local caplen = tvb:len() - poff
	if caplen ~= pseudo_caplen or caplen > len then
		tree:add_proto_expert_info(ef.malformed,
			string.format("%d payload bytes captured, pseudo-header says %d, len %d",
				caplen, pseudo_caplen, len))
		caplen = math.min(caplen, len)
	end
	local texts = {}
	if caplen > 0 then
		local p = tree:add(pf.payload, tvb(poff, caplen))
		if caplen < len then
			p:append_text(string.format(" (%d of %d bytes captured)", caplen, len))
		end
		for i, f in ipairs(omvm_fields[value] or {}) do
			if f.offset + f.size <= caplen then
				local r = tvb(poff + f.offset, f.size)
				local text = field_text(f, r)
				if f.kind == "STRING" then
					p:add(type_fields[value][i], r, text)
				else
					p:add_le(type_fields[value][i], r):append_text(" (" .. text .. ")")
				end
				texts[#texts + 1] = f.name .. "=" .. text
			end
		end
	end
	local decoded = table.concat(texts, " ")
	tree:add(pf.decoded, decoded):set_generated()

	local info = string.format("%s %d->%d len %d seq %s", label, src, dst, len, tostring(seq))
	if bit32.band(flags, OMVM_F_REPLY) ~= 0 then
		info = info .. " reply_to " .. tostring(reply_to)
	end
	if decoded ~= "" then
		info = info .. " " .. decoded
	end
	return info
end

-- A link frame's payload fields, as omtrace shows them (host/trace/link-decode.c):
-- added to tree, and their "name=value" texts returned.
local function link_fields(tvb, tree, ltype, off, caplen)
	local texts = {}
	local function hex64(r)
		return "0x" .. string.lower(r:le_uint64():tohex(16))
	end
	if ltype == OMVM_LINK_T_HELLO and caplen >= OMVM_LINK_HELLO_SIZE then
		tree:add_le(pf.hello_magic, tvb(off, 4))
		tree:add_le(pf.hello_max_payload, tvb(off + 4, 4))
		tree:add_le(pf.hello_session, tvb(off + 8, 8))
		tree:add_le(pf.hello_peer_session, tvb(off + 16, 8))
		tree:add_le(pf.hello_tx_base, tvb(off + 24, 8))
		tree:add_le(pf.hello_first, tvb(off + 32, 4))
		tree:add_le(pf.hello_last, tvb(off + 36, 4))
		texts = { string.format("magic=0x%08x", tvb(off, 4):le_uint()),
			"max_payload=" .. tvb(off + 4, 4):le_uint(),
			"session=" .. hex64(tvb(off + 8, 8)), "peer_session=" .. hex64(tvb(off + 16, 8)),
			"tx_base=" .. tostring(tvb(off + 24, 8):le_uint64()),
			string.format("nodes=%d-%d", tvb(off + 32, 4):le_uint(), tvb(off + 36, 4):le_uint()) }
	elseif ltype == OMVM_LINK_T_NODE and caplen >= OMVM_LINK_NODE_SIZE then
		local state, reason = tvb(off + 4, 2):le_uint(), tvb(off + 6, 2):le_uint()
		tree:add_le(pf.node_node, tvb(off, 4))
		tree:add_le(pf.node_state, tvb(off + 4, 2))
		tree:add_le(pf.node_reason, tvb(off + 6, 2))
		texts = { "node=" .. tvb(off, 4):le_uint(), "state=" .. (OMVM_LINK_NODE_STATES[state] or "?"),
			"reason=" .. (omvm_node_reasons[reason] or tostring(reason)) }
	elseif ltype == OMVM_LINK_T_CREDIT and caplen >= OMVM_LINK_CREDITS_SIZE then
		local entries = {}
		tree:add_le(pf.credit_count, tvb(off, 4))
		local at = OMVM_LINK_CREDITS_SIZE
		while at + OMVM_LINK_CREDIT_SIZE <= caplen do
			local e = tree:add(omvm, tvb(off + at, OMVM_LINK_CREDIT_SIZE), "Credit")
			e:add_le(pf.credit_node, tvb(off + at, 4))
			e:add_le(pf.credit_buf_alloc, tvb(off + at + 4, 4))
			e:add_le(pf.credit_fwd_cnt, tvb(off + at + 8, 4))
			entries[#entries + 1] = string.format("%d/%d/%d", tvb(off + at, 4):le_uint(),
				tvb(off + at + 4, 4):le_uint(), tvb(off + at + 8, 4):le_uint())
			at = at + OMVM_LINK_CREDIT_SIZE
		end
		texts = { "count=" .. tvb(off, 4):le_uint(), "credits=" .. table.concat(entries, " ") }
	end
	return texts
end

-- A relay link's record: the peer, then the frame (header, payload; a DATA
-- frame's message as any other), or the link's event.
local function dissect_link(tvb, pinfo, root, psize, pcaplen, event)
	if psize < OMVM_LINK_PSEUDO_SIZE or tvb:len() < psize + OMVM_LINK_HDR_SIZE then
		root:add_proto_expert_info(ef.malformed, "link record shorter than its header")
		return
	end
	local peer = tvb(OMVM_PSEUDO_SIZE, OMVM_PEER_SIZE):stringz()
	root:add(pf.link_peer, tvb(OMVM_PSEUDO_SIZE, OMVM_PEER_SIZE), peer)
	local off, poff = psize, psize + OMVM_LINK_HDR_SIZE
	local caplen = tvb:len() - poff
	local name = OMVM_EVENTS[event]
	if event == OMVM_EVENT_LINK_UP or event == OMVM_EVENT_LINK_DOWN then
		local decoded = event == OMVM_EVENT_LINK_UP and "up" or "down"
		if event == OMVM_EVENT_LINK_DOWN and caplen > 0 then
			local why = tvb(poff, caplen):string()
			root:add(pf.link_why, tvb(poff, caplen), why)
			decoded = decoded .. ": " .. why
		end
		root:add(pf.link_decoded, decoded):set_generated()
		pinfo.cols.info = "link " .. peer .. " " .. decoded
		return
	end
	local h = root:add(omvm, tvb(off, OMVM_LINK_HDR_SIZE), "relay link frame header")
	local version, ltype = tvb(off, 2):le_uint(), tvb(off + 2, 2):le_uint()
	local len = tvb(off + 4, 4):le_uint()
	local seq, ack = tvb(off + 8, 8):le_uint64(), tvb(off + 16, 8):le_uint64()
	local tname = omvm_link_types[ltype] or string.format("0x%04x", ltype)
	local vi = h:add_le(pf.link_version, tvb(off, 2))
	if version ~= OMVM_LINK_VERSION then
		vi:add_proto_expert_info(ef.malformed, "frame version " .. version)
	end
	local ti = h:add_le(pf.link_type, tvb(off + 2, 2))
	h:add(pf.link_type_name, tvb(off + 2, 2), tname)
	if not omvm_link_types[ltype] then
		ti:add_proto_expert_info(ef.unknown, "frame type " .. tname)
	end
	h:add_le(pf.link_len, tvb(off + 4, 4))
	h:add_le(pf.link_seq, tvb(off + 8, 8))
	h:add_le(pf.link_ack, tvb(off + 16, 8))
	local fi = h:add_le(pf.link_flags, tvb(off + 24, 4))
	local ri = h:add_le(pf.link_reserved, tvb(off + 28, 4))
	if tvb(off + 24, 4):le_uint() ~= 0 or tvb(off + 28, 4):le_uint() ~= 0 then
		fi:add_proto_expert_info(ef.malformed, "frame flags or reserved not zero")
	end
	if caplen ~= pcaplen or caplen > len then
		root:add_proto_expert_info(ef.malformed,
			string.format("%d frame payload bytes captured, pseudo-header says %d, len %d",
				caplen, pcaplen, len))
		caplen = math.min(caplen, len)
	end
	local info = string.format("link %s %s %s seq %s ack %s len %d", peer, name:sub(6), tname,
		tostring(seq), tostring(ack), len)
	local texts = {}
	if ltype == OMVM_LINK_T_DATA and caplen >= OMVM_HDR_SIZE then
		local mh = root:add(omvm, tvb(poff, caplen), "carried virtio-om message")
		local mo = poff
		local minfo = dissect_message(tvb, pinfo, mh, mo, caplen - OMVM_HDR_SIZE)
		texts = { "src=" .. tvb(mo + 8, 4):le_uint(), "dst=" .. tvb(mo + 12, 4):le_uint(),
			"src_pid=" .. tvb(mo + 16, 4):le_uint(), "dst_pid=" .. tvb(mo + 20, 4):le_uint(),
			"type=" .. type_label(tvb(mo + 2, 2):le_uint()), "len=" .. tvb(mo + 40, 4):le_uint(),
			"seq=" .. tostring(tvb(mo + 24, 8):le_uint64()) }
		info = info .. ": " .. minfo
	elseif caplen > 0 then
		local p = root:add(pf.link_payload, tvb(poff, caplen))
		texts = link_fields(tvb, p, ltype, poff, caplen)
		if #texts > 0 then
			info = info .. " " .. table.concat(texts, " ")
		end
	end
	local decoded = tname
	if #texts > 0 then
		decoded = decoded .. " " .. table.concat(texts, " ")
	end
	root:add(pf.link_decoded, decoded):set_generated()
	pinfo.cols.info = info
end

function omvm.dissector(tvb, pinfo, tree)
	pinfo.cols.protocol = "omvm"
	local root = tree:add(omvm, tvb(), "omvm trace record")
	if tvb:len() < OMVM_PSEUDO_SIZE then
		root:add_proto_expert_info(ef.malformed, "shorter than the pseudo-header")
		return
	end
	local pversion = tvb(0, 2):le_uint()
	local psize = tvb(2, 2):le_uint()
	local event = tvb(4, 4):le_uint()
	local pcaplen = tvb(8, 4):le_uint()
	local ps = root:add(omvm, tvb(0, math.min(psize, tvb:len())), "omtrace pseudo-header")
	ps:add_le(pf.trace_version, tvb(0, 2))
	ps:add_le(pf.trace_size, tvb(2, 2))
	local ei = ps:add_le(pf.event, tvb(4, 4))
	ps:add_le(pf.caplen, tvb(8, 4))
	if pversion ~= OMVM_PSEUDO_VERSION or psize < OMVM_PSEUDO_SIZE or psize > tvb:len() then
		ps:add_proto_expert_info(ef.malformed, "pseudo-header version or size")
		return
	end
	if event == OMVM_EVENT_MISSED then
		if tvb:len() < psize + 16 then
			ps:add_proto_expert_info(ef.malformed, "missed-messages record too short")
			return
		end
		local n = tvb(psize, 8):le_uint64()
		root:add_le(pf.missed, tvb(psize, 8))
		root:add_le(pf.missed_total, tvb(psize + 8, 8))
		ei:add_proto_expert_info(ef.missed, tostring(n) .. " messages missed here")
		pinfo.cols.info = "*** missed " .. tostring(n) .. " messages here"
		return
	end
	if not OMVM_EVENTS[event] then
		ei:add_proto_expert_info(ef.malformed, "unknown event " .. event)
		return
	end
	if event >= OMVM_EVENT_LINK_TX and event <= OMVM_EVENT_LINK_DOWN then
		dissect_link(tvb, pinfo, root, psize, pcaplen, event)
		return
	end
	if tvb:len() < psize + OMVM_HDR_SIZE then
		root:add_proto_expert_info(ef.malformed, "shorter than a message header")
		return
	end
	local info = dissect_message(tvb, pinfo, root, psize, pcaplen)
	if event ~= OMVM_EVENT_RELAYED then
		ei:add_proto_expert_info(ef.undeliverable)
		info = info .. " UNDELIVERABLE"
	end
	pinfo.cols.info = info
end

local encaps = wtap_encaps or wtap
DissectorTable.get("wtap_encap"):add(encaps.USER0, omvm)
