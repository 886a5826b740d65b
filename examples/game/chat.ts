/**
 * A chat: log in, join and leave rooms, say something to a room; a user's disconnect leaves their rooms.
 *
 * Rooms are gate channels (`room:<name>`), so a message reaches every member on every gate; membership for the
 * member list lives in this node's memory (run one chat node, or make the routes stateful to shard rooms).
 *
 * | route | request                        | response                               |
 * |-------|--------------------------------|----------------------------------------|
 * | 10    | `{ uid, name }` login          | `{ code, uid }`                        |
 * | 11    | `{ room }` join (login first)  | `{ code, room, members: [names] }`     |
 * | 12    | `{ room }` leave               | `{ code }`                             |
 * | 13    | `{ room, text }` say           | `{ code }`                             |
 * | 100   | push: room event               | `{ type: join|leave|say, room, name, text? }` |
 *
 * @module
 */
import type { NodeProxy } from "../../mod.ts";

/** Route ids of the chat. */
export const ChatRoute = { Login: 10, Join: 11, Leave: 12, Say: 13, RoomEvent: 100 } as const;

/** Result codes in responses. */
export const ChatCode = { OK: 0, InvalidArgument: 3, NotFound: 5, Unauthorized: 7 } as const;

interface Member {
  name: string;
  rooms: Set<string>;
}

const channel = (room: string) => `room:${room}`;

/** Registers the chat routes and the disconnect handler. */
export function chat(node: NodeProxy): void {
  const members = new Map<number, Member>();
  const rooms = new Map<string, Set<number>>();

  async function leave(uid: number, room: string): Promise<void> {
    const member = members.get(uid);
    const inRoom = rooms.get(room);
    if (!member || !inRoom?.delete(uid)) return;
    member.rooms.delete(room);
    if (inRoom.size === 0) rooms.delete(room);
    await node.unsubscribe(channel(room), { uids: [uid] }).catch(() => {});
    await node.publish(channel(room), {
      route: ChatRoute.RoomEvent,
      data: { type: "leave", room, name: member.name },
    });
  }

  node.route(ChatRoute.Login, async function login(ctx) {
    const { uid, name } = ctx.parse<{ uid?: number; name?: string }>() ?? {};
    if (!Number.isSafeInteger(uid) || uid! <= 0 || typeof name !== "string" || name === "") {
      return ctx.response({
        code: ChatCode.InvalidArgument,
        message: "login needs a positive integer uid and a name",
      });
    }
    await ctx.bindGate(uid!);
    const member = members.get(uid!);
    if (member) member.name = name;
    else members.set(uid!, { name, rooms: new Set() });
    ctx.response({ code: ChatCode.OK, uid });
  });

  node.route(ChatRoute.Join, async function join(ctx) {
    const { room } = ctx.parse<{ room?: string }>() ?? {};
    const member = members.get(ctx.uid);
    if (!member) return ctx.response({ code: ChatCode.Unauthorized });
    if (typeof room !== "string" || room === "" || room.length > 64) {
      return ctx.response({ code: ChatCode.InvalidArgument });
    }
    let inRoom = rooms.get(room);
    if (!inRoom) rooms.set(room, inRoom = new Set());
    inRoom.add(ctx.uid);
    member.rooms.add(room);
    await node.subscribe(channel(room), { uids: [ctx.uid] });
    await node.publish(channel(room), {
      route: ChatRoute.RoomEvent,
      data: { type: "join", room, name: member.name },
    });
    ctx.response({ code: ChatCode.OK, room, members: [...inRoom].map((uid) => members.get(uid)?.name) });
  }, { authorized: true });

  node.route(ChatRoute.Leave, async function leaveRoom(ctx) {
    const { room } = ctx.parse<{ room?: string }>() ?? {};
    if (typeof room !== "string" || !rooms.get(room)?.has(ctx.uid)) {
      return ctx.response({ code: ChatCode.NotFound });
    }
    await leave(ctx.uid, room);
    ctx.response({ code: ChatCode.OK });
  }, { authorized: true });

  node.route(ChatRoute.Say, async function say(ctx) {
    const { room, text } = ctx.parse<{ room?: string; text?: string }>() ?? {};
    const member = members.get(ctx.uid);
    if (!member || typeof room !== "string" || !member.rooms.has(room)) {
      return ctx.response({ code: ChatCode.NotFound });
    }
    if (typeof text !== "string" || text.length > 1000) {
      return ctx.response({ code: ChatCode.InvalidArgument });
    }
    await node.publish(channel(room), {
      route: ChatRoute.RoomEvent,
      data: { type: "say", room, name: member.name, text },
    });
    ctx.response({ code: ChatCode.OK });
  }, { authorized: true });

  node.on("disconnect", async function onDisconnect(ctx) {
    if (ctx.uid === 0) return;
    // A user who logged in again elsewhere is still online: their rooms stay theirs.
    if (await node.isOnline({ uid: ctx.uid })) return;
    const member = members.get(ctx.uid);
    if (!member) return;
    for (const room of [...member.rooms]) await leave(ctx.uid, room);
    members.delete(ctx.uid);
  });
}
