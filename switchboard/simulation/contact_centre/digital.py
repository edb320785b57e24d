"""Chats and e-mails on digital.messages, answered by the centre's agents.

A chat opens with the customer's message; often a bot greets them first, and sometimes settles
the chat itself. Otherwise an agent replies after a while, and the conversation goes back and
forth: the customer writes one to three lines, the same agent replies. At the end the customer
may thank them (a message nobody answers) and the chat is closed by the system. An e-mail gets
the system's acknowledgement at once, an agent's reply within hours (by closing time at the
latest), and sometimes a follow-up from the customer and a second reply.

Every customer message and agent reply carries the conversation's queue; replies carry the
agent. The response (first unanswered customer message -> agent reply) is recorded as it
happens; bot and system messages are never replies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from switchboard.simulation.contact_centre.acd import Acd, Agent, QueueState
from switchboard.simulation.contact_centre.config import Window
from switchboard.simulation.contact_centre.crm import record_outcome
from switchboard.simulation.contact_centre.engine import (
    HOUR,
    MINUTE,
    SECOND,
    lognormal_ms,
    ms,
)
from switchboard.simulation.contact_centre.floor import Floor, OnTheFloor
from switchboard.simulation.contact_centre.ledger import Response

_RETRY = MINUTE  # when nobody is logged in to reply, look again this much later
_RETRIES = 60


@dataclass(eq=False)
class Conversation:
    conversation_id: str
    channel: str
    queue: QueueState
    turns_left: int
    messages: int = 0
    asked_ms: int | None = None  # the first customer message not yet replied to
    agent: Agent | None = None
    replies: int = 0
    longest_wait_ms: int = 0


class Digital(OnTheFloor):
    """The chats and e-mails of one enterprise, answered by the ACD's agents."""

    def __init__(self, floor: Floor, acd: Acd, window: Window) -> None:
        super().__init__(floor)
        self._acd = acd
        self._window = window
        self._queues: Sequence[QueueState] = list(acd.queues.values())
        self._weights = [q.profile.weight for q in self._queues]
        self.open = 0  # conversations not closed yet
        acd.digital_open = lambda: self.open > 0

    def arrival(self) -> None:
        rng = self._rng
        email = rng.random() < self._odds.email_share
        self._ledger.conversations += 1
        conversation = Conversation(
            conversation_id=f"{self._out.enterprise.id}-{'email' if email else 'chat'}-"
            + self._out.name("conversation", self._ledger.conversations)[:16],
            channel="email" if email else "chat",
            queue=rng.choices(self._queues, self._weights)[0],
            turns_left=rng.choices((0, 1, 2, 3), (0.3, 0.35, 0.25, 0.1))[0]
            if not email
            else int(rng.random() < 0.3),
        )
        self.open += 1
        if email:
            self._email(conversation)
        else:
            self._chat(conversation)

    # -- chat ----------------------------------------------------------------------------

    def _chat(self, conversation: Conversation) -> None:
        rng = self._rng
        self._customer(conversation)
        if rng.random() < self._odds.bot_greeting:
            self._sched.after(ms(rng.uniform(1, 3)), partial(self._say, conversation, "bot"))
            if rng.random() < self._odds.bot_only:
                self._bot_settles(conversation)
                return
        self._await_reply(conversation, conversation_started=True)

    def _bot_settles(self, conversation: Conversation) -> None:
        rng = self._rng
        answered = ms(rng.uniform(4, 10))
        thanked = answered + ms(rng.uniform(10, 60))
        self._sched.after(answered, partial(self._say, conversation, "bot"))
        self._sched.after(thanked, partial(self._customer, conversation))
        self._sched.after(thanked + ms(rng.uniform(20, 60)), partial(self._close, conversation))

    def _customer_turn(self, conversation: Conversation) -> None:
        """The customer writes one to three lines; the agent replies to all of them."""
        rng = self._rng
        self._customer(conversation)
        lines = rng.choices((1, 2, 3), (0.55, 0.3, 0.15))[0]
        last = 0
        for _ in range(lines - 1):
            last += ms(rng.uniform(3, 20))
            self._sched.after(last, partial(self._customer, conversation))
        self._await_reply(conversation, after_lines=last)

    def _await_reply(
        self,
        conversation: Conversation,
        *,
        after_lines: int = 0,
        conversation_started: bool = False,
    ) -> None:
        rng, odds = self._rng, self._odds
        if conversation.channel == "chat":
            median = odds.chat_response_median_sec * (1.5 if conversation_started else 1.0)
            response = lognormal_ms(rng, median, 0.8, 3 * SECOND, 20 * MINUTE)
        else:
            response = lognormal_ms(rng, odds.email_response_median_sec, 0.9, 2 * MINUTE, 6 * HOUR)
            # The mailbox is cleared by closing time.
            latest = max(self._window.close_ms - self._sched.now, MINUTE)
            response = min(response, latest)
        delay = max(response, after_lines + ms(rng.uniform(2, 10)))
        self._sched.after(delay, partial(self._reply, conversation, 0))

    def _reply(self, conversation: Conversation, tries: int) -> None:
        agent = self._replying_agent(conversation)
        if agent is None:
            if tries < _RETRIES:
                self._sched.after(_RETRY, partial(self._reply, conversation, tries + 1))
            else:  # nobody ever came: the customer is left without an answer
                self._close(conversation)
            return
        now = self._sched.now
        asked = conversation.asked_ms
        assert asked is not None
        conversation.agent = agent
        conversation.replies += 1
        conversation.longest_wait_ms = max(conversation.longest_wait_ms, now - asked)
        self._say(conversation, "agent", agent)
        self._ledger.responses.append(
            Response(
                enterprise_id=self._ledger.enterprise_id,
                conversation_id=conversation.conversation_id,
                channel=conversation.channel,
                queue_id=conversation.queue.queue_id,
                agent_id=agent.profile.agent_id,
                asked_ms=asked,
                replied_ms=now,
            )
        )
        conversation.asked_ms = None
        if conversation.channel == "chat":
            self._chat_goes_on(conversation)
        else:
            self._email_goes_on(conversation)

    def _chat_goes_on(self, conversation: Conversation) -> None:
        rng = self._rng
        if conversation.turns_left > 0:
            conversation.turns_left -= 1
            self._sched.after(ms(rng.uniform(8, 90)), partial(self._customer_turn, conversation))
            return
        ends = ms(rng.uniform(30, 90))
        if rng.random() < 0.35:  # "thanks!": nothing to reply to
            thanked = ms(rng.uniform(5, 40))
            self._sched.after(thanked, partial(self._customer, conversation))
            ends += thanked
        self._sched.after(ends, partial(self._close, conversation, outcome=True))

    # -- e-mail --------------------------------------------------------------------------

    def _email(self, conversation: Conversation) -> None:
        self._customer(conversation)
        self._sched.after(ms(self._rng.uniform(2, 5)), partial(self._say, conversation, "system"))
        self._await_reply(conversation)

    def _email_goes_on(self, conversation: Conversation) -> None:
        rng = self._rng
        follow_up = ms(rng.uniform(10 * 60, 2 * 3600))
        if conversation.turns_left > 0 and self._sched.now + follow_up < self._window.close_ms:
            conversation.turns_left -= 1
            self._sched.after(follow_up, partial(self._customer_email, conversation))
        else:
            self._sched.after(
                ms(rng.uniform(60, 300)), partial(self._close, conversation, outcome=True)
            )

    def _customer_email(self, conversation: Conversation) -> None:
        self._customer(conversation)
        self._await_reply(conversation)

    # -- messages ------------------------------------------------------------------------

    def _customer(self, conversation: Conversation) -> None:
        if conversation.asked_ms is None:
            conversation.asked_ms = self._sched.now
        self._say(conversation, "customer")

    def _say(self, conversation: Conversation, sender: str, agent: Agent | None = None) -> None:
        conversation.messages += 1
        self._out.message(
            self._sched.now,
            conversation.conversation_id,
            f"{conversation.conversation_id}-{conversation.messages}",
            channel=conversation.channel,
            sender=sender,
            queue_id=conversation.queue.queue_id,
            agent_id=agent.profile.agent_id if agent else None,
        )

    def _close(self, conversation: Conversation, *, outcome: bool = False) -> None:
        if conversation.channel == "chat":
            self._say(conversation, "system")
        if outcome and conversation.replies and self._rng.random() < self._odds.digital_outcome:
            record_outcome(
                self._out,
                self._ledger,
                self._rng,
                conversation.queue.profile,
                self._sched.now,
                waited_sec=conversation.longest_wait_ms / SECOND,
                conversation_id=conversation.conversation_id,
            )
        self.open -= 1
        self._acd.work_done()

    def _replying_agent(self, conversation: Conversation) -> Agent | None:
        if conversation.agent is not None and conversation.agent.logged_in:
            return conversation.agent
        skilled = self._acd.logged_in(conversation.queue.queue_id)
        candidates = skilled or self._acd.logged_in()
        return self._rng.choice(candidates) if candidates else None
