import { Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { AdminTokenGuard } from '../common/auth.guards';
import { GcService, GcWorkerResult } from './gc.service';

@Controller()
export class GcController {
  constructor(private readonly gc: GcService) {}

  /** Every live worker unloads its models and reports RSS before/after. */
  @Post('gc')
  @HttpCode(200)
  @UseGuards(AdminTokenGuard)
  async collect(): Promise<{ workers: GcWorkerResult[] }> {
    return { workers: await this.gc.broadcast() };
  }
}
