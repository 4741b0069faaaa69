import xml.sax
from xml.sax.handler import feature_external_ges

import defusedxml.ElementTree
import lxml.etree
from flask import Flask, request

app = Flask(__name__)


@app.route("/upload", methods=["POST"])
def upload():
    xml_src = request.get_data()
    # ruleid: pb.python.lxml-parse-untrusted
    doc = lxml.etree.fromstring(xml_src)
    return doc.findtext("userid")


@app.route("/upload-safe", methods=["POST"])
def upload_safe():
    xml_src = request.get_data()
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True)
    # ok: pb.python.lxml-parse-untrusted
    doc = lxml.etree.fromstring(xml_src, parser=parser)
    # ok: pb.python.lxml-parse-untrusted
    doc2 = defusedxml.ElementTree.fromstring(xml_src)
    return doc.findtext("userid") + doc2.findtext("userid")


def parsers(path):
    # ruleid: pb.python.lxml-xxe-parser
    p1 = lxml.etree.XMLParser(resolve_entities=True)
    # ruleid: pb.python.lxml-xxe-parser
    p2 = lxml.etree.XMLParser(load_dtd=True, no_network=False)
    # ok: pb.python.lxml-xxe-parser
    p3 = lxml.etree.XMLParser(resolve_entities=False, no_network=True)
    return p1, p2, p3


def sax_parse(path, handler):
    parser = xml.sax.make_parser()
    # ruleid: pb.python.sax-external-entities
    parser.setFeature(feature_external_ges, True)
    # ok: pb.python.sax-external-entities
    parser.setFeature(feature_external_ges, False)
    parser.setContentHandler(handler)
    parser.parse(path)
