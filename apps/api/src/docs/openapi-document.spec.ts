import { Controller, Delete, Get, INestApplication, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Access } from '../auth/access.decorator';
import { listApiRoutes } from './api-routes';
import { buildOpenApiDocument, UNDOCUMENTED } from './openapi-document';

/** Routes with the paths and access levels of documented ones, and one nobody documented. */
@Controller('health')
@Access('public')
class LiveProbe {
  @Get('live')
  live(): void {}
}

@Controller()
class Admin {
  @Post('gc')
  @Access('admin')
  collect(): void {}

  @Delete('jobs/:id')
  @Access('owner')
  cancel(): void {}

  @Get('brand-new/:thing')
  brandNew(): void {}
}

describe('buildOpenApiDocument', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const module = await Test.createTestingModule({ controllers: [LiveProbe, Admin] }).compile();
    app = module.createNestApplication({ logger: false });
  });

  afterAll(async () => {
    await app.close();
  });

  it('lists the routes with their access level', () => {
    expect(listApiRoutes(app).map(({ key, access }) => `${key} ${access}`).sort()).toEqual([
      'DELETE /jobs/:id owner', 'GET /brand-new/:thing user', 'GET /health/live public', 'POST /gc admin',
    ]);
  });

  it('marks a route without documentation and names it', () => {
    const { document, undocumented } = buildOpenApiDocument(app);
    expect(undocumented).toEqual(['GET /brand-new/:thing']);
    expect(document.paths['/brand-new/{thing}'].get).toMatchObject({ [UNDOCUMENTED]: true, summary: expect.stringContaining('UNDOCUMENTED') });
  });

  it('documents the others from ROUTE_DOCS, security and 401/403 from the access level', () => {
    const { document } = buildOpenApiDocument(app);
    const live = document.paths['/health/live'].get!;
    expect(live.summary).toMatch(/Liveness/);
    expect(Object.keys(live.responses)).toEqual(['200']);
    expect(live.security).toContainEqual({});

    const gc = document.paths['/gc'].post!;
    expect(gc.security).toEqual([{ adminToken: [] }]);
    expect(Object.keys(gc.responses)).toEqual(expect.arrayContaining(['200', '401', '403']));

    const cancel = document.paths['/jobs/{id}'].delete!;
    expect(cancel.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    expect(cancel.security).toEqual(expect.arrayContaining([{ apiKey: [] }, { adminToken: [] }]));
    expect(Object.keys(cancel.responses)).toEqual(expect.arrayContaining(['200', '401', '403', '404', '409']));
  });
});
