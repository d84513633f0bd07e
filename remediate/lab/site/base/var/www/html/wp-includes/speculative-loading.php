<?php
/**
 * WordPress-like lab stub for wp-includes/speculative-loading.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'speculative-loading.php';
