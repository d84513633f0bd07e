<?php
/**
 * WordPress-like lab stub for wp-includes/blocks.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'blocks.php';
