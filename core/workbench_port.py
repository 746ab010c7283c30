"""What the web console's Playground, Tokenizer and Personas pages ask of the core (as
core/console_port.py is for its other pages): plain values from core/console/ and three
Protocols, implemented in core/console/ and built by core/bootstrap.py as `App.workbench`."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from typing import Protocol

from core.boundary import ConversationKey
from core.console.personas import PersonaDraft, SavedPersona, Space
from core.console.playground import ParamField, PlaygroundEvent, PlaygroundForm, PreparedRequest
from core.console.tokenizer import Tokenized
from core.console.view_code import CodeSnippets
from core.personas import Persona


class PlaygroundPort(Protocol):
    @property
    def default_model(self) -> str: ...

    def model_names(self) -> list[str]: ...

    def fields(self, model: str) -> list[ParamField]:
        """The parameters `model` takes, with /set's bounds."""
        ...

    async def prepare(self, form: PlaygroundForm) -> PreparedRequest:
        """The request, counted as the window counts; InvalidParam with /set's texts."""
        ...

    def code(self, prepared: PreparedRequest) -> CodeSnippets: ...

    def run(self, prepared: PreparedRequest) -> AsyncGenerator[PlaygroundEvent, None]:
        """The answer as it streams, then its usage and cost (or a failure's text key)."""
        ...


class TokenizerPort(Protocol):
    @property
    def default_model(self) -> str: ...

    def model_names(self) -> list[str]: ...

    def tokenize(self, text: str, model: str) -> Tokenized:
        """TextTooLong past /tokens' limit."""
        ...


class PersonasPort(Protocol):
    """Create, edit, copy and delete raise InvalidParam with /newpersona's and /set's texts."""

    def catalog(self) -> list[Persona]: ...

    async def saved(self) -> list[SavedPersona]: ...

    async def spaces(self, chats: Iterable[ConversationKey]) -> list[Space]: ...

    async def create(self, space: Space, draft: PersonaDraft) -> None: ...

    async def edit(self, space: Space, draft: PersonaDraft) -> None: ...

    async def copy(self, source: Space | None, name: str, target: Space, new_name: str) -> None: ...

    async def delete(self, space: Space, name: str) -> None: ...


class WorkbenchPort(Protocol):
    @property
    def playground(self) -> PlaygroundPort: ...

    @property
    def tokenizer(self) -> TokenizerPort: ...

    @property
    def personas(self) -> PersonasPort: ...
