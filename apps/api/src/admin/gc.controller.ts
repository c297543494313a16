import { Controller, HttpCode, Post } from '@nestjs/common';
import { Access } from '../auth/access.decorator';
import { GcService, GcWorkerResult } from './gc.service';

@Controller()
export class GcController {
  constructor(private readonly gc: GcService) {}

  /** Every live worker unloads its models and reports RSS before/after. */
  @Post('gc')
  @HttpCode(200)
  @Access('admin')
  async collect(): Promise<{ workers: GcWorkerResult[] }> {
    return { workers: await this.gc.broadcast() };
  }
}
