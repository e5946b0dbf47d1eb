# The seed's design, for `npm run bench:node`: Django with a JWT session
# middleware in the shape of django-jwt-session-auth (which is on PyPI only,
# unreachable here, and needs Django < 3.1): `Authorization: JWT <token>`,
# HS256 via PyJWT, the user from the payload, the session a dict in Django's
# cache (django-redis, on the same Redis as the Node server), read before the
# view and written back after it when not empty. Run by gunicorn from
# Debian's packages (python3-django, gunicorn, python3-redis,
# python3-django-redis, python3-jwt). Written for this bench, not copied.
import json
import os
import time

import jwt
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY=os.environ['JWT_SECRET'],
    ALLOWED_HOSTS=['*'],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[f'{__name__}.JwtSessionMiddleware'],
    INSTALLED_APPS=[],
    CACHES={
        'default': {
            'BACKEND': 'django_redis.cache.RedisCache',
            'LOCATION': os.environ['REDIS_URL'],
            'KEY_PREFIX': 'seed',
        }
    },
)

SESSION_PREFIX = 'JWT_AUTH_CACHE:'
SESSION_EXPIRE = 3600 * 24 * 2  # seconds, the design's default


class User:
    def __init__(self, pk):
        self.pk = pk


def payload_to_user(payload):
    return User(payload['pk']) if payload and 'pk' in payload else None


class JwtSessionMiddleware:
    """Puts `jwt_user` and `jwt_session` on the request; saves the session after the view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        header = request.META.get('HTTP_AUTHORIZATION', '').split()
        request.jwt_user = None
        request.jwt_session_key = None
        request.jwt_session = {}
        if len(header) == 2 and header[0] == 'JWT':
            try:
                payload = jwt.decode(header[1], settings.SECRET_KEY, algorithms=['HS256'])
            except jwt.PyJWTError:
                payload = None
            request.jwt_user = payload_to_user(payload)
            if request.jwt_user:
                request.jwt_session_key = SESSION_PREFIX + str(request.jwt_user.pk)
                request.jwt_session = cache.get(request.jwt_session_key, {})
        response = self.get_response(request)
        if request.jwt_session_key and request.jwt_session:
            cache.set(request.jwt_session_key, request.jwt_session, SESSION_EXPIRE)
        return response


def json_response(body, status=200):
    return HttpResponse(json.dumps(body), status=status, content_type='application/json')


def login(request):
    """A session for the user named in the body (the bench's stand-in for code2Session)."""
    uid = json.loads(request.body or b'{}').get('uid', 'bench')
    token = jwt.encode({'pk': uid, 'exp': int(time.time()) + SESSION_EXPIRE}, settings.SECRET_KEY, algorithm='HS256')
    cache.set(SESSION_PREFIX + uid, {'openid': uid}, SESSION_EXPIRE)
    return json_response({'token': token})


def me(request):
    if not request.jwt_user:
        return json_response({'error': 'AUTH_REQUIRED'}, 401)
    return json_response({'user': {'id': request.jwt_user.pk}, 'session': request.jwt_session})


def healthz(request):
    return json_response({'ok': True})


urlpatterns = [path('login', login), path('me', me), path('healthz', healthz)]

from django.core.wsgi import get_wsgi_application  # noqa: E402 (after settings)

application = get_wsgi_application()
