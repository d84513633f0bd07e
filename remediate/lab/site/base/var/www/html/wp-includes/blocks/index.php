<?php
/**
 * WordPress-like lab stub for wp-includes/blocks/index.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'blocks/index.php';
