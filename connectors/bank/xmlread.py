"""Reading untrusted XML fast and safely: expat directly, no DTD, and only the elements asked for.

Safety is defusedxml's, on the same expat handlers: a document type declaration (so any
entity declaration, internal or external, and any billion-laughs expansion), an entity
declaration and an external entity reference each raise before anything is expanded or
fetched; without a DTD the only entities are the five predefined ones and character
references. Nothing is ever fetched from the network.

Speed comes from building only what the reader will look at. ``spec`` is a nested dict of
local names (namespaces ignored, so every version of a schema reads the same): a name's
value is the spec of its children, ``LEAF`` for an element whose text is wanted, and
``"*"`` matches any name. Elements the spec does not name, and everything under them, are
never built, so a statement's bank transaction codes, agents and references cost one
handler call each instead of a tree node. Kept elements are ordinary ``Element``s with
local names as tags, in document order, so ``find``/``findall`` and the first-child
reading of the full tree give the same answers on the pruned one; ``text`` is, as in
``ElementTree``, the text before the element's first child.

    >>> spec = {"*": {"Stmt": {"Id": LEAF}}}
    >>> root = read_pruned(b'<D xmlns="urn:x"><M><Stmt><Id> S1 </Id><Skip>x</Skip></Stmt></M></D>', spec)
    >>> root.tag, root[0][0][0].tag, root[0][0][0].text, len(root[0][0])
    ('D', 'Id', ' S1 ', 1)
    >>> read_pruned(b'<!DOCTYPE d [<!ENTITY a "aaaa">]><d>&a;</d>', spec)
    Traceback (most recent call last):
    ...
    defusedxml.common.DTDForbidden: DTDForbidden(name='d', system_id=None, public_id=None)
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, SubElement
from xml.parsers import expat

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

Spec = dict[str, Any]
#: The spec of an element whose text is read and whose children are not.
LEAF: Spec = {}

XmlError = expat.ExpatError


def _doctype(name: str, sysid: str | None, pubid: str | None, _internal: bool) -> None:
    raise DTDForbidden(name, sysid, pubid)


def _entity(name: str, _parameter: bool, value: str | None, base: str | None, sysid: str | None,
            pubid: str | None, notation: str | None) -> None:
    raise EntitiesForbidden(name, value, base, sysid, pubid, notation)


def _unparsed_entity(name: str, base: str | None, sysid: str | None, pubid: str | None,
                     notation: str | None) -> None:
    raise EntitiesForbidden(name, None, base, sysid, pubid, notation)


def _external(context: str, base: str | None, sysid: str | None, pubid: str | None) -> None:
    raise ExternalReferenceForbidden(context, base, sysid, pubid)


def read_pruned(data: bytes, spec: Spec) -> Element:
    """The root element of ``data`` with the children ``spec`` names (see the module doc).

    Raises ``XmlError`` for XML that is not well-formed (or has no root), and defusedxml's
    ``DTDForbidden`` / ``EntitiesForbidden`` / ``ExternalReferenceForbidden``.
    """
    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartDoctypeDeclHandler = _doctype
    parser.EntityDeclHandler = _entity
    parser.UnparsedEntityDeclHandler = _unparsed_entity
    parser.ExternalEntityRefHandler = _external
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    root = Element("")
    # one frame per open element: (its spec or None when pruned, the kept element, its text)
    stack: list[tuple[Spec | None, Element | None, list[str] | None]] = [({"*": spec}, root, None)]
    local: dict[str, str] = {}
    text: list[str] | None = None  # the text being collected: the open element's, before its first child
    push, pop = stack.append, stack.pop

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal text
        text = None
        parent_spec, parent, _ = stack[-1]
        if parent_spec is None:
            push((None, None, None))
            return
        tag = local.get(name)
        if tag is None:
            tag = local[name] = name.rpartition("}")[2]
        child_spec = parent_spec.get(tag)
        if child_spec is None:
            child_spec = parent_spec.get("*")
            if child_spec is None:
                push((None, None, None))
                return
        element = SubElement(parent, tag, attributes)  # type: ignore[arg-type]
        if child_spec is LEAF:
            text = []
            push((child_spec, element, text))
        else:
            push((child_spec, element, None))

    def end(_name: str) -> None:
        nonlocal text
        _spec, element, collected = pop()
        if collected and element is not None:
            element.text = "".join(collected)
        text = None

    def characters(data: str) -> None:
        if text is not None:
            text.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.Parse(data, True)
    if len(root) != 1:
        raise XmlError("no element found")
    return root[0]
