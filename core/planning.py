"""The one planning path: what someone asked to make → a priced plan, or why not.

A new message, a button and a follow-up all describe what to make as a :class:`Draft`, and
:meth:`Planner.plan` runs every check on it, once and in this order, before anything is spent:

1. banned words and lengths of the description and the lyrics;
2. the number of input pictures the task type takes;
3. the live catalog of the task type;
4. the model: the one named in this message > a remembered one (a retry or a carried-on job:
   its version, else the current version of its model) > quality (best / cheapest) > the
   person's saved preference (version, then model id) > the recommended default;
5. what the person wants → that model's parameters (or the spec's advice when it can't: the
   advice comes first, it answers what was asked). Two wishes are met without asking: when the
   person chose no model (the default, or a preference saved only because they used it) and
   it can't do what they asked (sound, 9:16, 8 seconds),
   a model that can is used — the suggested one, else the first in the catalog's order, that
   costs at most :data:`FIT_PRICE_FACTOR` times the default (else the suggested one is offered
   at its price: a capability only a dearer model has is confirmed, never bought unasked);
   and a format the model they named doesn't offer is left out with a note (they chose the
   model, the format is a detail) — unless they insisted on it (``Wants.strict``): then it
   is refused, naming the models that offer it;
6. that something is described;
7. the price, and a cheaper model to mention when it is expensive.

The caps are the last check: :meth:`core.runner.JobRunner.admit` reserves the credits in the
same transaction that stores the job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from core import choice
from core.ima.catalog import Catalog, Model
from core.ima.client import IMAClient
from core.ima.errors import IMAError
from core.ima.models import name_key
from core.ima.rules import Quote, quote
from core.ima.tasks import TaskType
from core.jobs import ModelSource
from core.messages import Offer
from core.parse import Quality
from core.policy import MAX_LYRICS_CHARS, MAX_PROMPT_CHARS, Policy
from core.replier import Stage
from core.request import Attachment
from core.store import Store
from core.wants import Alternative, Mapped, Message, Refused, Wants, map_wants

#: A model used instead of the default because only it can do what was asked may cost at most
#: this many times the default's lowest price; a dearer one is offered instead (one tap).
FIT_PRICE_FACTOR = 2
#: Models nobody chose for this request: the bot's, or the person's saved only because they
#: used it (one that can do the wishes may replace them).
_UNCHOSEN = (ModelSource.DEFAULT, ModelSource.FITTED, ModelSource.USED)
#: Models the person chose by name.
_NAMED = (ModelSource.EXPLICIT, ModelSource.ALWAYS)


@dataclass(frozen=True)
class Named:
    """A model the person named in this message (``always``: and keep it as the default)."""

    query: str
    always: bool = False


@dataclass(frozen=True)
class Remembered:
    """The model of an earlier job, or one the person picked from the bot's buttons."""

    version_id: str
    model_id: str
    model_name: str
    source: ModelSource


Pick = Named | Remembered | Quality | None


@dataclass(frozen=True)
class Draft:
    """What to make, before any check."""

    task_type: TaskType
    prompt: str
    wants: Wants = field(default_factory=Wants)
    #: Pictures still to fetch from the platform (attached to the message or remembered).
    attachments: tuple[Attachment, ...] = ()
    #: Pictures IMA can read as they are, or will be uploaded again (results, https URLs).
    image_urls: tuple[str, ...] = ()
    pick: Pick = None
    #: The person asked for top quality in words ("高画质", "premium quality").
    premium: bool = False
    #: The job this one carries on from.
    origin_id: str | None = None
    #: A model named with a negation ("别用mj"): never chosen for this draft unless named.
    avoid: str | None = None
    #: "换个模型画一只猫": not the model that would be chosen otherwise (unless one is named).
    another: bool = False

    @property
    def images(self) -> int:
        return len(self.attachments) + len(self.image_urls)


@dataclass(frozen=True)
class Plan:
    draft: Draft
    model: Model
    source: ModelSource
    quote: Quote
    #: Sentences for the first message (advice, a saved default).
    notes: tuple[Message, ...]
    #: A cheaper model to mention when this one is expensive.
    cheaper: Offer | None = None

    @property
    def task_type(self) -> TaskType:
        return self.draft.task_type


class Unplanned(Exception):
    """The draft can't be made as it is; ``message`` says why (or what the bot needs), and
    ``alternative`` is the closest thing that can be made, when there is one."""

    def __init__(
        self,
        message: Message,
        stage: Stage = Stage.INFO,
        alternative: Alternative | None = None,
    ) -> None:
        super().__init__(message.key)
        self.message = message
        self.stage = stage
        self.alternative = alternative


def _ask(key: str, **values: object) -> Unplanned:
    return Unplanned(Message(key, values), Stage.QUESTION)


class Planner:
    def __init__(self, client: IMAClient, store: Store, policy: Policy) -> None:
        self._client = client
        self._store = store
        self._policy = policy

    async def plan(self, draft: Draft, platform: str, user_id: str) -> Plan:
        """Every check before anything is spent; raises :class:`Unplanned` with the reason."""
        wants = draft.wants
        if self._policy.banned(draft.prompt, wants.lyrics):
            raise Unplanned(Message("access.banned"))
        if len(draft.prompt) > MAX_PROMPT_CHARS or len(wants.lyrics or "") > MAX_LYRICS_CHARS:
            raise _ask("question.too_long", prompt=MAX_PROMPT_CHARS, lyrics=MAX_LYRICS_CHARS)
        spec = draft.task_type.spec
        if draft.images < spec.min_images or (
            spec.max_images is not None and draft.images > spec.max_images
        ):
            raise _ask(_image_question(draft.task_type))
        catalog = await self._client.catalog(draft.task_type)
        model, source = await self.choose(catalog, draft.pick, platform, user_id)
        named = isinstance(draft.pick, Named)
        if isinstance(draft.pick, Named):
            model = _family_member(catalog, pick=draft.pick, model=model, prompt=draft.prompt)
        # the model this draft never uses: the one left out ("别用mj"), else with "another
        # model" the one it would have used
        avoided = catalog.find(draft.avoid) if draft.avoid and not named else None
        if not named and (draft.another or (avoided is not None and avoided == model)):
            avoided = avoided or model
            # the recommended default, unless it is the one to avoid: then the first other
            default = choice.recommended(catalog)
            others = [m for m in catalog.models if m != model]
            if not others:
                raise Unplanned(Message("error.model_unavailable"))
            model = default if default is not None and default != model else others[0]
            source = ModelSource.DEFAULT
        outputs = wants.outputs(spec.max_outputs)
        try:
            try:
                model, source, mapped = _fit(model, source, wants, catalog, outputs, avoided)
            except Refused as refusal:
                member = _family_fit(catalog, draft.pick, model, wants, outputs)
                if member is None:
                    raise
                able, fitted = member
                if quote(able, fitted.params, outputs).credits > (
                    FIT_PRICE_FACTOR * model.min_points * outputs
                ):  # dearer than the name's first find: offered, one tap
                    raise Refused(refusal.message, Alternative(able, wants)) from None
                note = Message("advice.fitted", {"old": model.name, "model": able.name})
                model, mapped = able, Mapped(fitted.params, (note, *fitted.notes))
        except Refused as refusal:
            alternative = refusal.alternative
            if alternative is not None and alternative.model == avoided:
                alternative = None  # never offered either
            raise Unplanned(refusal.message, alternative=alternative) from None
        if not draft.prompt.strip():
            raise _ask("question.empty")
        offer = quote(model, mapped.params, outputs)
        notes = list(mapped.notes)
        cheaper = None
        if (
            offer.credits > choice.EXPENSIVE
            and not draft.premium
            and source not in (ModelSource.BEST, ModelSource.CHEAPEST, ModelSource.EXPLICIT)
        ):
            found = choice.cheaper_than(catalog, offer, mapped.params)
            cheaper = Offer(found[0], found[1].credits) if found else None
        return Plan(draft, model, source, offer, tuple(notes), cheaper)

    async def choose(
        self, catalog: Catalog, pick: Pick, platform: str, user_id: str
    ) -> tuple[Model, ModelSource]:
        """Step 5 of the module's list, for one catalog."""
        if isinstance(pick, Named):
            return await self._named(catalog, pick), (
                ModelSource.ALWAYS if pick.always else ModelSource.EXPLICIT
            )
        if isinstance(pick, Remembered):
            found = catalog.resolve(pick.version_id, pick.model_id)
            if found is None:
                raise Unplanned(Message("pref.unknown_model", {"model": pick.model_name}))
            return found, pick.source
        if pick is Quality.BEST and (best := choice.best(catalog)) is not None:
            return best, ModelSource.BEST
        if pick is Quality.CHEAPEST and (cheapest := choice.cheapest(catalog)) is not None:
            return cheapest, ModelSource.CHEAPEST
        pref = await self._store.get_preference(platform, user_id, catalog.task_type)
        if pref is not None and (found := catalog.resolve(pref.version_id, pref.model_id)):
            return found, ModelSource.PREFERENCE if pref.chosen else ModelSource.USED
        default = choice.recommended(catalog)
        if default is None:
            raise Unplanned(Message("error.model_unavailable"))
        return default, ModelSource.DEFAULT

    async def _named(self, catalog: Catalog, pick: Named) -> Model:
        model = catalog.find(pick.query)
        if model is not None:
            return model
        for task_type in TaskType:  # a model of another kind? Say which kinds it makes.
            if task_type is catalog.task_type:
                continue
            try:
                elsewhere = (await self._client.catalog(task_type)).find(pick.query)
            except IMAError:
                continue
            if elsewhere is not None:
                models = ", ".join(m.name for m in catalog.models[:6])
                kind = Message(f"kind.{catalog.task_type.value}")
                raise Unplanned(
                    Message(
                        "question.model_wrong_kind",
                        {"model": elsewhere.name, "kind": kind, "models": models},
                    )
                )
        raise Unplanned(Message("pref.unknown_model", {"model": pick.query}))


def _family_member(catalog: Catalog, *, pick: Named, model: Model, prompt: str) -> Model:
    """ "用豆包做个BGM": a family name ("豆包" finds DouBao - Song first) with the word that
    ends another member's name in the prompt ("BGM") is that member, if it costs no more;
    a full name stays."""
    if name_key(pick.query) == name_key(model.name):
        return model
    family = model.name.split()[0].lower()
    words = {w.lower() for w in re.findall(r"[A-Za-z0-9]+", prompt)}
    for other in catalog.models:
        parts = other.name.split()
        if (
            other != model
            and parts[0].lower() == family
            and parts[-1].lower() in words
            and other.min_points <= model.min_points  # never dearer than the name's first find
        ):
            return other
    return model


def _family_fit(
    catalog: Catalog, pick: Pick, model: Model, wants: Wants, outputs: int
) -> tuple[Model, Mapped] | None:
    """ "seedance 做一个十秒的短片": a family name without a version finds its first member
    (Seedance 1.5 Pro, no 10 s); another member that does everything asked (Seedance 2.0) is
    what the person named too, the cheapest such one. A full name stays binding."""
    if not isinstance(pick, Named) or name_key(pick.query) == name_key(model.name):
        return None
    family = model.name.split()[0].lower()
    members = [m for m in catalog.models if m != model and m.name.split()[0].lower() == family]
    fits = []
    for member in members:
        try:
            mapped = map_wants(member, wants, catalog)
        except Refused:
            continue
        if not mapped.notes:
            fits.append((quote(member, mapped.params, outputs).credits, member, mapped))
    if not fits:
        return None
    _, member, mapped = min(fits, key=lambda fit: fit[0])
    return member, mapped


def _fit(
    model: Model,
    source: ModelSource,
    wants: Wants,
    catalog: Catalog,
    outputs: int,
    avoided: Model | None = None,
) -> tuple[Model, ModelSource, Mapped]:
    """``model``'s parameters for ``wants``, or the two exceptions of step 5 of the module's
    list (never fitting ``avoided``); raises :class:`Refused` when neither applies."""
    try:
        return model, source, map_wants(model, wants, catalog)
    except Refused as refusal:
        alternative = refusal.alternative
        if source in _UNCHOSEN and alternative is not None and alternative.wants == wants:
            fitted = _fitting(
                alternative.model,
                wants,
                catalog,
                FIT_PRICE_FACTOR * model.min_points * outputs,
                outputs,
                avoided,
            )
            if fitted is not None:
                able, mapped = fitted
                note = Message("advice.fitted", {"old": model.name, "model": able.name})
                return able, ModelSource.FITTED, Mapped(mapped.params, (note, *mapped.notes))
        if (
            source in _NAMED
            and refusal.message.key == "advice.ratio_elsewhere"
            and not wants.strict
        ):
            mapped = map_wants(model, replace(wants, aspect_ratio=None), catalog)
            values = {"model": model.name, "ratio": wants.aspect_ratio}
            note = Message("advice.ratio_left_out", values)
            return model, source, Mapped(mapped.params, (note, *mapped.notes))
        raise


def _fitting(
    suggested: Model,
    wants: Wants,
    catalog: Catalog,
    most: int,
    outputs: int,
    avoided: Model | None,
) -> tuple[Model, Mapped] | None:
    """The model that does ``wants`` for at most ``most`` credits: the one the advice
    suggests, else the first in the catalog's order that does all of them as asked (no note
    of something left out), so a capable model at the default's price is used even when the
    suggested one costs more; never ``avoided``."""
    for able in (suggested, *(m for m in catalog.models if m != suggested)):
        if able == avoided:
            continue
        try:
            mapped = map_wants(able, wants, catalog)
        except Refused:
            continue
        exact = able == suggested or not mapped.notes
        if exact and quote(able, mapped.params, outputs).credits <= most:
            return able, mapped
    return None


def _image_question(task_type: TaskType) -> str:
    spec = task_type.spec
    if spec.min_images == spec.max_images == 2:
        return "question.images_first_last"
    if spec.max_images == 1:
        return "question.images_one"
    return "question.images_needed"
